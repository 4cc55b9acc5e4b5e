import { normalisePhone } from '@smsfleet/contracts';
import { countParts } from '@smsfleet/validation';
import { ApiError } from '../common/api-error';

export interface Recipient {
  /** As the client wrote it (trimmed, with a `+` restored). */
  sendto: string;
  /** The search form (E.164 for international numbers, see normalisePhone). */
  phone: string;
}

export const MAX_RECIPIENTS_PER_REQUEST = 1_000;

/**
 * Splits `sendto` on commas into recipients. In a GET query an unencoded `+` arrives as a space, and
 * " 4915…" would then read as a national number: a recipient that starts with a single space followed
 * by a digit gets its `+` back — only for values from the query string, where that is what happened.
 */
export function parseRecipients(raw: string, fromQueryString: boolean): Recipient[] {
  if (recipientCount(raw, MAX_RECIPIENTS_PER_REQUEST + 1) > MAX_RECIPIENTS_PER_REQUEST) {
    throw ApiError.validation(
      `sendto has more than ${MAX_RECIPIENTS_PER_REQUEST} numbers; at most ${MAX_RECIPIENTS_PER_REQUEST} per request`,
    );
  }
  const parts = raw.split(',');
  const recipients = parts.map((part, index) => {
    const restored = fromQueryString && /^ \d/.test(part) ? `+${part.slice(1)}` : part;
    const sendto = restored.trim();
    if (sendto === '') {
      throw ApiError.validation(
        parts.length === 1 ? 'sendto is required' : `sendto has an empty number at position ${index + 1}`,
      );
    }
    const phone = normalisePhone(sendto);
    if (phone === undefined) {
      throw ApiError.validation(
        `sendto "${sendto.slice(0, 40)}" is not a phone number (digits, optionally a leading +)`,
      );
    }
    if (sendto.length > 64) throw ApiError.validation(`sendto "${sendto.slice(0, 40)}…" is too long`);
    return { sendto, phone };
  });
  return recipients;
}

/**
 * How many recipients a `sendto` value names, counted no further than `stopAt` and without splitting it:
 * a cap on recipients is checked before any work per recipient. Anything but text counts as one (it is
 * refused when the item is read).
 */
export function recipientCount(sendto: unknown, stopAt: number): number {
  return typeof sendto === 'string' ? countParts(sendto, ',', stopAt) : 1;
}
