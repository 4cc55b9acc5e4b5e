/** One bad item of a bulk request: where it is and what is wrong. */
export interface ItemError {
  index: number;
  field: string;
  message: string;
}

const LISTED_IN_MESSAGE = 20;

/** "item 3 (sendto): …; item 7 (device_id): …" — the first few; the answer's `errors` has them all. */
export function describeItemErrors(errors: ItemError[]): string {
  const listed = errors
    .slice(0, LISTED_IN_MESSAGE)
    .map((e) => `item ${e.index} (${e.field}): ${e.message}`)
    .join('; ');
  const more = errors.length > LISTED_IN_MESSAGE ? `; and ${errors.length - LISTED_IN_MESSAGE} more` : '';
  return `${errors.length} item(s) rejected, nothing was saved: ${listed}${more}`;
}
