/** Words that mark a value copied from an example or left as a reminder, not a secret. */
const PLACEHOLDER =
  /change.?me|changeit|example|placeholder|replace.?(me|this)|^(secret|password|admin|smsfleet|postgres|redis|default|test)\d*$/i;
/** In a generated secret these words do not happen: a value holding them was typed by hand. */
const TYPED = /secret|password/i;

/**
 * Least entropy estimated from the characters' frequencies: 32 random hex digits (128 real bits) estimate
 * at 89 bits at worst (200,000 samples), a repeated or near-constant value far lower.
 */
const MIN_BITS = 80;

/** Why `value` reads as a placeholder, or undefined. */
export function placeholderProblem(value: string): string | undefined {
  return PLACEHOLDER.test(value) ? 'is a placeholder, not a secret' : undefined;
}

/**
 * Why `value` is too weak to protect every account's API token, or undefined. A heuristic against the
 * usual mistakes (a placeholder, a short or repetitive value), not a proof of randomness: generate it
 * (`openssl rand -hex 32`).
 */
export function weakSecretProblem(value: string): string | undefined {
  const placeholder =
    placeholderProblem(value) ?? (TYPED.test(value) ? 'is a placeholder, not a secret' : undefined);
  if (placeholder) return placeholder;
  if (value.length < 32) return `is too short (${value.length} characters, at least 32)`;
  if (/^(.{1,16}?)\1+$/.test(value)) return 'repeats one short pattern';
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  if (counts.size < 8) return `uses only ${counts.size} different characters`;
  let bitsPerCharacter = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bitsPerCharacter -= p * Math.log2(p);
  }
  const bits = Math.floor(bitsPerCharacter * value.length);
  return bits < MIN_BITS ? `has too little entropy (about ${bits} bits, at least ${MIN_BITS})` : undefined;
}
