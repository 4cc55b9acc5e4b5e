/**
 * A bulk file (CSV or XLSX) as rows of cells → the items of one addalotofsms request, with every bad row
 * named before anything is sent. The server checks everything again; this is for the person at the
 * screen, who fixes the file before the all-or-nothing request.
 */
export type Cell = string | number | boolean | Date | null | undefined;

/** The item fields a column may feed. */
export const BULK_FIELDS = [
  'sendto',
  'body',
  'device_id',
  'sim',
  'timetosend',
  'customerid',
  'urgent',
] as const;
export type BulkField = (typeof BULK_FIELDS)[number];

/** Which column (by index) feeds each field; undefined: none (the form's default is used). */
export type ColumnMapping = Partial<Record<BulkField, number>>;

export const MAX_BULK_ROWS = 10_000;

export interface BulkDefaults {
  deviceId?: number;
  sim: number;
  /** The SIM slots each device can send from. */
  slotsByDevice: ReadonlyMap<number, readonly number[]>;
  maxBodyLength: number;
}

export interface BulkItem {
  sendto: string;
  body: string;
  device_id: number;
  sim: number;
  timetosend?: string;
  customerid?: number;
  urgent?: number;
}

export interface RowError {
  /** 1-based line of the file (the header is line 1). */
  line: number;
  field: BulkField | 'row';
  message: string;
}

const ALIASES: Record<BulkField, string[]> = {
  sendto: ['sendto', 'phone', 'number', 'to', 'recipient', 'mobile', 'msisdn'],
  body: ['body', 'text', 'message', 'sms', 'content'],
  device_id: ['device_id', 'deviceid', 'device'],
  sim: ['sim', 'slot', 'sim_slot'],
  timetosend: ['timetosend', 'time_to_send', 'schedule', 'send_at', 'sendat', 'time'],
  customerid: ['customerid', 'customer_id', 'customer', 'id'],
  urgent: ['urgent', 'priority'],
};

const normalise = (header: Cell) =>
  String(header ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** A first guess of the mapping from the header row's names; each column feeds one field at most. */
export function guessMapping(header: readonly Cell[]): ColumnMapping {
  const names = header.map(normalise);
  const mapping: ColumnMapping = {};
  const taken = new Set<number>();
  for (const field of BULK_FIELDS) {
    const index = names.findIndex((name, i) => !taken.has(i) && ALIASES[field].includes(name));
    if (index >= 0) {
      mapping[field] = index;
      taken.add(index);
    }
  }
  return mapping;
}

const text = (cell: Cell): string => {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return cell.toISOString().slice(0, 19).replace('T', ' ');
  return String(cell).trim();
};

const PHONE = /^\+?[0-9 ()./-]{3,40}$/;
const DATE = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/;

/** Checks every data row (the header excluded); answers the items only when no row is bad. */
export function validateRows(
  rows: readonly (readonly Cell[])[],
  mapping: ColumnMapping,
  defaults: BulkDefaults,
): { items: BulkItem[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const items: BulkItem[] = [];
  if (mapping.sendto === undefined)
    errors.push({ line: 1, field: 'sendto', message: 'choose the column of the numbers' });
  if (mapping.body === undefined)
    errors.push({ line: 1, field: 'body', message: 'choose the column of the texts' });
  if (rows.length === 0)
    errors.push({ line: 1, field: 'row', message: 'the file has no rows below its header' });
  if (rows.length > MAX_BULK_ROWS)
    errors.push({
      line: 1,
      field: 'row',
      message: `at most ${MAX_BULK_ROWS.toLocaleString('en')} rows in one request (got ${rows.length.toLocaleString('en')})`,
    });
  if (errors.length > 0) return { items: [], errors };
  rows.forEach((row, index) => {
    const line = index + 2;
    const cell = (field: BulkField) =>
      mapping[field] === undefined ? '' : text(row[mapping[field] as number]);
    const fail = (field: BulkField, message: string) => errors.push({ line, field, message });
    const before = errors.length;
    const sendto = cell('sendto');
    if (sendto === '') fail('sendto', 'no number');
    else if (!PHONE.test(sendto) || sendto.replace(/\D/g, '').length < 3)
      fail('sendto', `"${sendto.slice(0, 40)}" is not a phone number`);
    const body = cell('body');
    if (body === '') fail('body', 'no text');
    else if (body.length > defaults.maxBodyLength)
      fail('body', `longer than ${defaults.maxBodyLength} characters`);
    const deviceText = cell('device_id');
    const deviceId = deviceText === '' ? defaults.deviceId : Number(deviceText);
    if (deviceId === undefined) fail('device_id', 'no device (choose one above or map a column)');
    else if (!Number.isInteger(deviceId) || !defaults.slotsByDevice.has(deviceId))
      fail('device_id', `"${deviceText}" is not one of your devices`);
    const simText = cell('sim');
    const sim = simText === '' ? defaults.sim : Number(simText);
    if (!Number.isInteger(sim) || sim < 0 || sim > 5) fail('sim', `"${simText}" is not a SIM slot (0–5)`);
    else if (
      deviceId !== undefined &&
      defaults.slotsByDevice.get(deviceId) &&
      !defaults.slotsByDevice.get(deviceId)?.includes(sim)
    )
      fail('sim', `device ${deviceId} cannot send from slot ${sim}`);
    const when = cell('timetosend');
    if (when !== '' && !DATE.test(when))
      fail('timetosend', `"${when.slice(0, 40)}" is not YYYY-MM-DD[ HH:MM[:SS]]`);
    const customerText = cell('customerid');
    const customerId = customerText === '' ? undefined : Number(customerText);
    if (customerId !== undefined && (!Number.isSafeInteger(customerId) || customerId < 0))
      fail('customerid', `"${customerText}" is not a whole number`);
    const urgentText = cell('urgent').toLowerCase();
    if (!['', '0', '1', 'true', 'false', 'yes', 'no'].includes(urgentText))
      fail('urgent', `"${urgentText}" is not 1/0`);
    if (errors.length > before) return;
    items.push({
      sendto,
      body,
      device_id: deviceId as number,
      sim,
      ...(when === '' ? {} : { timetosend: when }),
      ...(customerId === undefined ? {} : { customerid: customerId }),
      ...(['1', 'true', 'yes'].includes(urgentText) ? { urgent: 1 } : {}),
    });
  });
  return errors.length > 0 ? { items: [], errors } : { items, errors };
}

/** The server's refusal of a bulk (`errors` by item index) as lines of the file. */
export function serverErrorsAsLines(
  errors: ReadonlyArray<{ index: number; field?: string; message: string }>,
): RowError[] {
  return errors.map((error) => ({
    line: error.index + 2,
    field: (BULK_FIELDS as readonly string[]).includes(error.field ?? '')
      ? (error.field as BulkField)
      : 'row',
    message: error.message,
  }));
}
