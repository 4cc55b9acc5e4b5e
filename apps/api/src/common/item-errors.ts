/** One bad item of a bulk request: where it is and what is wrong. */
export interface ItemError {
  index: number;
  field: string;
  message: string;
}

const LISTED_IN_MESSAGE = 20;

/** How the parts of a request are called: the items of a bulk, the rows of an import. */
export interface ItemWording {
  noun: string;
  refused: string;
}

const BULK_ITEMS: ItemWording = { noun: 'item', refused: 'rejected' };

/** "item 3 (sendto): …; item 7 (device_id): …" — the first few; the answer's `errors` has them all. */
export function describeItemErrors(errors: ItemError[], wording: ItemWording = BULK_ITEMS): string {
  const { noun, refused } = wording;
  const listed = errors
    .slice(0, LISTED_IN_MESSAGE)
    .map((e) => `${noun} ${e.index} (${e.field}): ${e.message}`)
    .join('; ');
  const more = errors.length > LISTED_IN_MESSAGE ? `; and ${errors.length - LISTED_IN_MESSAGE} more` : '';
  return `${errors.length} ${noun}(s) ${refused}, nothing was saved: ${listed}${more}`;
}
