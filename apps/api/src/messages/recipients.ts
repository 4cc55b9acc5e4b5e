import { normalisePhone } from '@smsfleet/contracts';
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
  const parts = raw.split(',');
  if (parts.length > MAX_RECIPIENTS_PER_REQUEST) {
    throw ApiError.validation(
      `sendto has ${parts.length} numbers; at most ${MAX_RECIPIENTS_PER_REQUEST} per request`,
    );
  }
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
