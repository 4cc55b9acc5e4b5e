const FORMATTING = /[\s\-()./]/g;
const PHONE = /^\+?\d{3,17}$/;

/**
 * The search form of a number: formatting removed, an international `00` prefix written as `+`
 * ("+49 157 52982212" and "0049157-52982212" → "+4915752982212"). National numbers stay national: there
 * is no country to resolve them against. Undefined when it is not a number.
 */
export function normalisePhone(text: string): string | undefined {
  const phone = text
    .trim()
    .replace(FORMATTING, '')
    .replace(/^00(?=\d)/, '+');
  return PHONE.test(phone) ? phone : undefined;
}
