import { unstorableTextProblem } from '@smsfleet/validation';
import { ApiError } from './api-error';

type Bag = Record<string, unknown>;

/** Where a parameter came from: a `+` in a query string may have arrived as a space. */
export type ParamSource = 'query' | 'body';

export interface ParamValue {
  value: unknown;
  source: ParamSource;
}

const TRUE_FLAGS = new Set([true, 1, '1', 'true']);
const FALSE_FLAGS = new Set([false, 0, '0', 'false', '']);

/**
 * The parameters of one API call, merged from the query string and the body (a body field wins), with
 * readers that accept what real clients send (numbers as strings, flags as 1/"true") and reject the rest
 * with a message naming the field.
 */
export class RequestParams {
  private readonly values = new Map<string, ParamValue>();

  constructor(query: unknown, body: unknown) {
    this.merge(query, 'query');
    this.merge(body, 'body');
  }

  /**
   * These parameters with more fields on top (they win), e.g. those inside a `datajson` wrapper, which
   * keep the source of the wrapper (a `+` inside a query string's JSON arrives as a space too).
   */
  extend(values: Record<string, unknown>, source: ParamSource): RequestParams {
    const extended = new RequestParams(undefined, undefined);
    for (const [key, value] of this.values) extended.values.set(key, value);
    extended.merge(values, source);
    return extended;
  }

  private merge(source: unknown, from: ParamSource): void {
    if (source === null || typeof source !== 'object' || Array.isArray(source) || Buffer.isBuffer(source))
      return;
    for (const [key, value] of Object.entries(source as Bag)) {
      if (value === undefined) continue;
      this.values.set(key, { value, source: from });
    }
  }

  /** The first of the names (a field and its aliases) that is present. */
  get(...names: string[]): ParamValue | undefined {
    for (const name of names) {
      const found = this.values.get(name);
      if (found !== undefined && found.value !== null) return found;
    }
    return undefined;
  }

  has(...names: string[]): boolean {
    return this.get(...names) !== undefined;
  }

  /** A text field; numbers are accepted as their text. */
  optionalString(names: string | string[], maxLength: number): string | undefined {
    const [name, found] = this.lookup(names);
    if (found === undefined) return undefined;
    const { value } = found;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string') throw ApiError.validation(`${name} must be a single text value`);
    if (value.length > maxLength)
      throw ApiError.validation(`${name} is too long (${value.length} characters, at most ${maxLength})`);
    const problem = unstorableTextProblem(value);
    if (problem) throw ApiError.validation(`${name} ${problem}`);
    return value;
  }

  requiredString(names: string | string[], maxLength: number): string {
    const value = this.optionalString(names, maxLength);
    if (value === undefined || value.trim() === '') throw ApiError.validation(`${first(names)} is required`);
    return value;
  }

  optionalInt(names: string | string[], min: number, max: number): number | undefined {
    const [name, found] = this.lookup(names);
    if (found === undefined) return undefined;
    const { value } = found;
    let parsed: number;
    if (typeof value === 'number') parsed = value;
    else if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) parsed = Number(value);
    else if (typeof value === 'string' && value.trim() === '') return undefined;
    else throw ApiError.validation(`${name} must be a whole number (got ${describe(value)})`);
    if (!Number.isSafeInteger(parsed))
      throw ApiError.validation(`${name} must be a whole number (got ${describe(value)})`);
    if (parsed < min || parsed > max)
      throw ApiError.validation(`${name} must be between ${min} and ${max} (got ${parsed})`);
    return parsed;
  }

  requiredInt(names: string | string[], min: number, max: number): number {
    const value = this.optionalInt(names, min, max);
    if (value === undefined) throw ApiError.validation(`${first(names)} is required`);
    return value;
  }

  /** 1/0, "1"/"0", true/false, "true"/"false"; absent → the fallback. */
  flag(names: string | string[], fallback: boolean): boolean {
    const [name, found] = this.lookup(names);
    if (found === undefined) return fallback;
    const value = typeof found.value === 'string' ? found.value.trim().toLowerCase() : found.value;
    if (TRUE_FLAGS.has(value as never)) return true;
    if (FALSE_FLAGS.has(value as never)) return false;
    throw ApiError.validation(`${name} must be 1 or 0 (got ${describe(found.value)})`);
  }

  private lookup(names: string | string[]): [string, ParamValue | undefined] {
    const list = Array.isArray(names) ? names : [names];
    for (const name of list) {
      const found = this.get(name);
      if (found !== undefined) return [name, found];
    }
    return [list[0], undefined];
  }
}

function first(names: string | string[]): string {
  return Array.isArray(names) ? names[0] : names;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}
