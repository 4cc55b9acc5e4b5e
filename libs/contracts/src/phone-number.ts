import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

const FORMATTING = /[\s\-()./]/g;
const PHONE = /^\+?\d{3,17}$/;

/**
 * The search form of a number. International numbers (a leading `+` or `00`) become E.164
 * ("+49 157 52982212", "0049157-52982212" and "+49 (0)157 52982212" → "+4915752982212"); national
 * numbers stay national digits, as there is no country to resolve them against. Undefined when it is
 * not a number at all.
 */
export function normalisePhone(text: string): string | undefined {
  const trimmed = text.trim();
  const cleaned = trimmed.replace(FORMATTING, '').replace(/^00(?=\d)/, '+');
  if (!PHONE.test(cleaned)) return undefined;
  if (cleaned.startsWith('+')) {
    const parsed = parsePhoneNumberFromString(trimmed.replace(/^00(?=\d)/, '+'));
    if (parsed?.isPossible()) return parsed.number;
  }
  return cleaned;
}
