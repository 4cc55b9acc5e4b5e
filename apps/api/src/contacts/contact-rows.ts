import { ApiError } from '../common/api-error';
import { describeItemErrors, ItemError } from '../common/item-errors';
import { RequestParams } from '../common/request-params';
import { parseRecipients, Recipient } from '../messages/recipients';

/** Rows per import request: a CSV of any length goes in chunks, each all-or-nothing. */
export const MAX_IMPORT_ROWS = 1_000;
const MAX_NAME_LENGTH = 255;

export interface ContactRow {
  recipient: Recipient;
  name: string;
}

/**
 * The `contacts` of an import, `[{phone, name?}]`, every row checked; any bad row refuses the request,
 * naming each. A number given twice keeps its last non-empty name (one contact per number and account).
 */
export function readContactRows(value: unknown): ContactRow[] {
  if (!Array.isArray(value)) throw ApiError.validation('contacts must be a list of {phone, name}');
  if (value.length === 0) throw ApiError.validation('contacts is empty');
  if (value.length > MAX_IMPORT_ROWS)
    throw ApiError.validation(`contacts has ${value.length} rows; at most ${MAX_IMPORT_ROWS} per request`);
  const errors: ItemError[] = [];
  const byPhone = new Map<string, ContactRow>();
  for (const [index, row] of value.entries()) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      errors.push({ index, field: 'item', message: 'must be an object {phone, name}' });
      continue;
    }
    const params = new RequestParams(undefined, row);
    /** One field read; its refusal is noted against the row, and the other fields are still checked. */
    const read = <T>(field: string, reader: () => T): T | undefined => {
      try {
        return reader();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        errors.push({ index, field, message: error.message });
        return undefined;
      }
    };
    const recipient = read('phone', () => {
      const recipients = parseRecipients(params.requiredString('phone', 64), false);
      if (recipients.length !== 1) throw ApiError.validation('phone must be one number');
      return recipients[0];
    });
    const name = read('name', () => (params.optionalString('name', MAX_NAME_LENGTH) ?? '').trim());
    if (recipient === undefined || name === undefined) continue;
    const known = byPhone.get(recipient.phone);
    byPhone.set(recipient.phone, { recipient, name: name || known?.name || '' });
  }
  if (errors.length > 0)
    throw new ApiError('validation', describeItemErrors(errors, { noun: 'row', refused: 'refused' }), errors);
  return [...byPhone.values()];
}
