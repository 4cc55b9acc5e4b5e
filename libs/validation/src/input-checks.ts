import { InvalidInput } from './invalid-input';
import { unstorableTextProblem } from './storable-text';

export interface TextRule {
  /** Longest accepted value, in UTF-16 code units (as String.length counts). */
  max: number;
  /** Shortest accepted value after trimming; 1 (the default) refuses blank text. */
  min?: number;
  /** Numbers are accepted as their text (form fields, loosely typed clients). */
  numbersAsText?: boolean;
}

/** The one check of every string from outside: a string, within its length, storable. */
export function checkText(value: unknown, field: string, rule: TextRule): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (rule.numbersAsText && typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else throw new InvalidInput(field, `${field} must be text`);
  if (text.length > rule.max)
    throw new InvalidInput(field, `${field} is too long (${text.length} characters, at most ${rule.max})`);
  const problem = unstorableTextProblem(text);
  if (problem) throw new InvalidInput(field, `${field} ${problem}`);
  if (text.trim().length < (rule.min ?? 1)) {
    throw new InvalidInput(
      field,
      rule.min === undefined || rule.min === 1 ? `${field} is required` : `${field} is too short`,
    );
  }
  return text;
}

/** checkText, or undefined when the value is absent (undefined or null). */
export function checkOptionalText(value: unknown, field: string, rule: TextRule): string | undefined {
  if (value === undefined || value === null) return undefined;
  return checkText(value, field, { ...rule, min: rule.min ?? 0 });
}

export interface IntRule {
  min: number;
  max: number;
  /** Whole numbers written as text ("42") are accepted. */
  numbersAsText?: boolean;
}

export function checkInt(value: unknown, field: string, rule: IntRule): number {
  let parsed = NaN;
  if (typeof value === 'number') parsed = value;
  else if (rule.numbersAsText && typeof value === 'string' && /^\s*-?\d{1,16}\s*$/.test(value))
    parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new InvalidInput(field, `${field} must be a whole number`);
  if (parsed < rule.min || parsed > rule.max)
    throw new InvalidInput(field, `${field} must be between ${rule.min} and ${rule.max}`);
  return parsed;
}

/** An array of at most `max` items, refused before any item is looked at. */
export function checkArray(value: unknown, field: string, rule: { max: number; min?: number }): unknown[] {
  if (!Array.isArray(value)) throw new InvalidInput(field, `${field} must be a list`);
  if (value.length > rule.max) throw new InvalidInput(field, `${field} has more than ${rule.max} items`);
  if (value.length < (rule.min ?? 0))
    throw new InvalidInput(field, `${field} needs at least ${rule.min ?? 0} items`);
  return value;
}

/**
 * How many parts `text` splits into on `separator`, counting no further than `stopAt`: a list is measured
 * against its cap before it is split, so an oversized one costs no more than the cap.
 */
export function countParts(text: string, separator: string, stopAt: number): number {
  let parts = 1;
  for (let at = text.indexOf(separator); at !== -1 && parts < stopAt; at = text.indexOf(separator, at + 1))
    parts++;
  return parts;
}

/** `text` split on `separator` into at most `max` parts; more are refused before any splitting. */
export function checkSeparated(
  text: string,
  field: string,
  rule: { separator: string; max: number },
): string[] {
  if (countParts(text, rule.separator, rule.max + 1) > rule.max)
    throw new InvalidInput(field, `${field} has more than ${rule.max} items`);
  return text.split(rule.separator);
}

/** A plain JSON object (not an array, not null). */
export function checkObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InvalidInput(field, `${field} must be an object`);
  return value as Record<string, unknown>;
}

/** Longest time text accepted; ISO-8601 with a zone and nanoseconds is 35 characters. */
const MAX_TIME_LENGTH = 40;

/** An ISO-8601 time (or anything Date parses) within years 1970–9999. */
export function checkTime(value: unknown, field: string): Date {
  if (typeof value !== 'string' || value.length > MAX_TIME_LENGTH)
    throw new InvalidInput(field, `${field} must be an ISO-8601 time`);
  const time = new Date(value);
  const ms = time.getTime();
  if (Number.isNaN(ms) || ms < 0 || ms > Date.UTC(9999, 11, 31))
    throw new InvalidInput(field, `${field} must be an ISO-8601 time`);
  return time;
}

export function checkOneOf<T extends string | number>(
  value: unknown,
  field: string,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T))
    throw new InvalidInput(field, `${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}
