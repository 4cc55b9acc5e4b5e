/**
 * Characters PostgreSQL or JSON refuse: NUL (text columns refuse 0x00, jsonb refuses \u0000) and UTF-16
 * surrogates that are not part of a pair (jsonb refuses the escape; UTF-8 cannot encode them). One such
 * character in a statement shared by many rows fails every row of it, so they are refused at the edge.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this pattern is for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored, or undefined when it can. */
export function unstorableTextProblem(text: string): string | undefined {
  const match = UNSTORABLE.exec(text);
  if (!match) return undefined;
  return match[0] === '\u0000' ? 'may not contain NUL characters' : 'is not valid Unicode (a lone surrogate)';
}

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * `text` with every unstorable character replaced by U+FFFD. Only for text that must never be refused
 * because the sender cannot change it (an SMS a phone received); everything else is refused.
 */
export function toStorableText(text: string): string {
  return isStorableText(text) ? text : text.replace(new RegExp(UNSTORABLE.source, 'g'), '\ufffd');
}
