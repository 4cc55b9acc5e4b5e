import { ChangeEvent, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Papa from 'papaparse';
import { readSheet } from 'read-excel-file/browser';
import { Link } from 'react-router-dom';
import { ApiFailure, post } from '../api';
import {
  BULK_FIELDS,
  BulkField,
  Cell,
  ColumnMapping,
  guessMapping,
  RowError,
  serverErrorsAsLines,
  validateRows,
} from '../lib/bulk-rows';
import { SIM_LABELS } from '../lib/format';
import { newIdempotencyKey } from '../lib/idempotency';
import { ErrorNote, Loading, PageTitle } from '../ui';
import { DEVICES_KEY, loadDevices } from './DevicesPage';

const MAX_BODY_LENGTH = 4_096;
const PREVIEW_ROWS = 10;
const ERRORS_SHOWN = 200;

const FIELD_LABELS: Record<BulkField, string> = {
  sendto: 'Number',
  body: 'Text',
  device_id: 'Device id',
  sim: 'SIM slot',
  timetosend: 'Send at',
  customerid: 'Customer id',
  urgent: 'Urgent',
};

interface Sheet {
  name: string;
  header: Cell[];
  rows: Cell[][];
  /** One key per file read: sending it twice (a double click, a retry) stores it once. */
  key: string;
}

async function readFile(file: File): Promise<Cell[][]> {
  if (/\.xlsx$/i.test(file.name)) return (await readSheet(file)) as Cell[][];
  return new Promise((resolve, reject) =>
    Papa.parse<string[]>(file, {
      skipEmptyLines: 'greedy',
      complete: (result) => resolve(result.data),
      error: (error) => reject(error),
    }),
  );
}

/** A CSV or XLSX file → column mapping → preview with every bad row named → one all-or-nothing request. */
export function BulkSendPage() {
  const queries = useQueryClient();
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: loadDevices });
  const [sheet, setSheet] = useState<Sheet>();
  const [readError, setReadError] = useState<string>();
  const [mapping, setMapping] = useState<ColumnMapping>({});
  const [deviceId, setDeviceId] = useState('');
  const [sim, setSim] = useState('0');
  const slotsByDevice = useMemo(
    () => new Map((devices.data ?? []).map((device) => [device.id, device.send_slots])),
    [devices.data],
  );
  const defaultDevice = deviceId === '' ? devices.data?.[0]?.id : Number(deviceId);
  const checked = useMemo(
    () =>
      sheet
        ? validateRows(sheet.rows, mapping, {
            deviceId: defaultDevice,
            sim: Number(sim),
            slotsByDevice,
            maxBodyLength: MAX_BODY_LENGTH,
          })
        : undefined,
    [sheet, mapping, defaultDevice, sim, slotsByDevice],
  );
  const send = useMutation({
    mutationFn: () =>
      post<{ count: number; sms_ids: number[] }>(
        '/getdata/addalotofsms',
        { smsdata: checked?.items ?? [] },
        { 'idempotency-key': sheet?.key ?? newIdempotencyKey() },
      ),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['messages'] }),
  });
  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    send.reset();
    setReadError(undefined);
    setSheet(undefined);
    if (!file) return;
    try {
      const [header = [], ...rows] = await readFile(file);
      setSheet({ name: file.name, header, rows, key: newIdempotencyKey() });
      setMapping(guessMapping(header));
    } catch (error) {
      setReadError(
        `${file.name} could not be read: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  const serverErrors: RowError[] =
    send.error instanceof ApiFailure && send.error.errors ? serverErrorsAsLines(send.error.errors) : [];
  const errors = [...(checked?.errors ?? []), ...serverErrors];
  if (devices.isPending) return <Loading what="your phones" />;
  return (
    <section>
      <PageTitle>Send from a file</PageTitle>
      <p>
        <Link to="/send">← Send one</Link>
      </p>
      <p className="muted">
        A CSV or XLSX file with a header row, up to 10,000 rows. Every row is checked here first; then all
        rows are sent in one request, stored all together or not at all.
      </p>
      <div className="stack">
        <label>
          File
          <input type="file" name="file" accept=".csv,.xlsx,text/csv" onChange={(e) => void choose(e)} />
        </label>
        <label>
          Phone for rows without a device id
          <select name="device" value={defaultDevice ?? ''} onChange={(e) => setDeviceId(e.target.value)}>
            {devices.data?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.title || `Device ${d.id}`} (#{d.id})
              </option>
            ))}
          </select>
        </label>
        <label>
          SIM slot for rows without one
          <select name="sim" value={sim} onChange={(e) => setSim(e.target.value)}>
            {(slotsByDevice.get(defaultDevice ?? -1) ?? [0, 1]).map((slot) => (
              <option key={slot} value={slot}>
                {SIM_LABELS[slot] ?? slot}
              </option>
            ))}
          </select>
        </label>
      </div>
      {readError && <ErrorNote error={new Error(readError)} />}
      {sheet && (
        <>
          <h2>Columns</h2>
          <div className="mapping">
            {BULK_FIELDS.map((field) => (
              <label key={field}>
                {FIELD_LABELS[field]}
                <select
                  name={`map-${field}`}
                  value={mapping[field] ?? ''}
                  onChange={(e) =>
                    setMapping({
                      ...mapping,
                      [field]: e.target.value === '' ? undefined : Number(e.target.value),
                    })
                  }
                >
                  <option value="">—</option>
                  {sheet.header.map((name, index) => (
                    <option key={index} value={index}>
                      {String(name ?? `Column ${index + 1}`)}
                    </option>
                  ))}
                </select>
              </label>
            ))}
          </div>
          <h2>Preview</h2>
          <p>
            {sheet.name}: {sheet.rows.length.toLocaleString()} rows
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Line</th>
                  {sheet.header.map((name, index) => (
                    <th scope="col" key={index}>
                      {String(name ?? '')}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {sheet.rows.slice(0, PREVIEW_ROWS).map((row, index) => (
                  <tr key={index}>
                    <td>{index + 2}</td>
                    {sheet.header.map((_, column) => (
                      <td key={column}>{String(row[column] ?? '')}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {errors.length > 0 ? (
            <div className="error" role="alert" data-testid="row-errors">
              <p>
                {errors.length} problem{errors.length === 1 ? '' : 's'}; nothing will be sent until the file
                is fixed:
              </p>
              <ul>
                {errors.slice(0, ERRORS_SHOWN).map((error, index) => (
                  <li key={index}>
                    Line {error.line}
                    {error.field === 'row' ? '' : ` (${FIELD_LABELS[error.field]})`}: {error.message}
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <p className="saved">All {checked?.items.length.toLocaleString()} rows are fine.</p>
          )}
          <button
            type="button"
            disabled={errors.length > 0 || send.isPending || send.isSuccess}
            onClick={() => send.mutate()}
          >
            {send.isPending ? 'Sending…' : `Send ${checked?.items.length.toLocaleString() ?? 0} messages`}
          </button>
          {send.error && !serverErrors.length && <ErrorNote error={send.error} />}
          {send.data && (
            <p role="status" className="saved" data-testid="bulk-sent">
              Saved {send.data.count.toLocaleString()} messages (#{send.data.sms_ids[0]} to #
              {send.data.sms_ids[send.data.sms_ids.length - 1]}). <Link to="/messages">See them →</Link>
            </p>
          )}
        </>
      )}
    </section>
  );
}
