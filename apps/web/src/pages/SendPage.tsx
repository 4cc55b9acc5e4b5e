import { FormEvent, useMemo, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { post, SessionInfo } from '../api';
import { SIM_LABELS } from '../lib/format';
import { newIdempotencyKey, toApiDateTime } from '../lib/idempotency';
import { Empty, ErrorNote, Loading, PageTitle } from '../ui';
import { DEVICES_KEY, loadDevices } from './DevicesPage';

interface Sent {
  sms_id: number;
  sms_ids?: number[];
}

/** The image types addsms accepts (it checks the content, not this list). */
const IMAGE_TYPES = 'image/jpeg,image/png,image/webp,image/gif';

/** Fields of addsms as a multipart form, the only way it takes a file. */
function multipart(fields: Record<string, string | number | undefined>, image: File): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields))
    if (value !== undefined) form.append(name, String(value));
  form.append('file', image, image.name);
  return form;
}

/**
 * One text (or an image's link) to one or several numbers (one message each), through addsms with an
 * Idempotency-Key.
 */
export function SendPage() {
  const queries = useQueryClient();
  const devices = useQuery({ queryKey: DEVICES_KEY, queryFn: loadDevices });
  const [deviceId, setDeviceId] = useState('');
  const [sim, setSim] = useState('0');
  const [sendto, setSendto] = useState('');
  const [body, setBody] = useState('');
  const [schedule, setSchedule] = useState('');
  const [urgent, setUrgent] = useState(false);
  const [image, setImage] = useState<File>();
  // Kept until the request succeeds: a retry or double click is the same request, stored once.
  const [key, setKey] = useState(newIdempotencyKey);
  const device = devices.data?.find((d) => String(d.id) === deviceId) ?? devices.data?.[0];
  const slots = useMemo(() => device?.send_slots ?? [0], [device]);
  const zone = queries.getQueryData<SessionInfo>(['session'])?.timezone ?? 'UTC';
  const send = useMutation({
    mutationFn: () => {
      const fields = {
        sendto: sendto
          .split(/[\n,;]+/)
          .map((n) => n.trim())
          .filter(Boolean)
          .join(','),
        // With an image its link is the text: the disabled field's leftover text is not sent (nor checked).
        body: image ? undefined : body,
        device_id: device?.id,
        sim: Number(slots.includes(Number(sim)) ? sim : slots[0]),
        timetosend: schedule ? toApiDateTime(schedule) : undefined,
        urgent: urgent ? 1 : 0,
      };
      return post<Sent>('/getdata/addsms', image ? multipart(fields, image) : fields, {
        'idempotency-key': key,
      });
    },
    onSuccess: () => {
      setKey(newIdempotencyKey());
      void queries.invalidateQueries({ queryKey: ['messages'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send.mutate();
  };
  if (devices.isPending) return <Loading what="your phones" />;
  if (devices.error) return <ErrorNote error={devices.error} retry={() => void devices.refetch()} />;
  const ids = send.data ? (send.data.sms_ids ?? [send.data.sms_id]) : [];
  return (
    <section>
      <PageTitle>Send</PageTitle>
      <p>
        <Link to="/send/bulk">Send many from a CSV or XLSX file →</Link>
      </p>
      {devices.data.length === 0 ? (
        <Empty>
          Add a phone first: <Link to="/devices/add">add a phone</Link>.
        </Empty>
      ) : (
        <form className="stack" onSubmit={submit}>
          <label>
            Phone
            <select
              name="device"
              value={device ? String(device.id) : ''}
              onChange={(e) => setDeviceId(e.target.value)}
            >
              {devices.data.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.title || `Device ${d.id}`} (#{d.id}) {d.online ? '— online' : '— offline'}
                </option>
              ))}
            </select>
          </label>
          <label>
            SIM slot
            <select name="sim" value={sim} onChange={(e) => setSim(e.target.value)}>
              {slots.map((slot) => (
                <option key={slot} value={slot}>
                  {SIM_LABELS[slot] ?? `Slot ${slot}`}
                </option>
              ))}
            </select>
          </label>
          <label>
            To (one number, or several separated by commas or lines)
            <textarea
              name="sendto"
              required
              rows={2}
              value={sendto}
              onChange={(e) => setSendto(e.target.value)}
            />
          </label>
          <label>
            Text
            <textarea
              name="body"
              required={!image}
              disabled={!!image}
              rows={4}
              value={body}
              aria-describedby="body-length"
              onChange={(e) => setBody(e.target.value)}
            />
          </label>
          <span id="body-length" className="muted">
            {image ? 'With an image, the message is its link.' : `${body.length} characters`}
          </span>
          <label>
            Image (optional: JPEG, PNG, WebP or GIF; the recipients get a link to it)
            <input
              type="file"
              name="image"
              accept={IMAGE_TYPES}
              onChange={(e) => setImage(e.target.files?.[0] ?? undefined)}
            />
          </label>
          <label>
            Send at (optional, {zone})
            <input
              type="datetime-local"
              name="schedule"
              value={schedule}
              onChange={(e) => setSchedule(e.target.value)}
            />
          </label>
          <label className="check">
            <input
              type="checkbox"
              name="urgent"
              checked={urgent}
              onChange={(e) => setUrgent(e.target.checked)}
            />
            Urgent (before everything else waiting on the phone)
          </label>
          <button type="submit" disabled={send.isPending}>
            {send.isPending ? 'Sending…' : 'Send'}
          </button>
          {send.error && <ErrorNote error={send.error} />}
          {ids.length > 0 && (
            <p role="status" className="saved" data-testid="sent">
              Saved {ids.length === 1 ? 'message' : `${ids.length} messages`}:{' '}
              {ids.slice(0, 20).map((id) => (
                <span key={id}>
                  <Link to={`/messages/${id}`}>#{id}</Link>{' '}
                </span>
              ))}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
