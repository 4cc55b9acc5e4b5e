import { accessSync, constants } from 'node:fs';
import { ConfigError } from './config-error';

type Env = Record<string, string | undefined>;

/** A variable the configuration reads, as recorded while reading it. */
export interface ConfigVariable {
  name: string;
  /** The value used when the variable is unset; undefined when there is none. */
  fallback?: string;
}

/** Reads typed values from the environment, naming the variable in every error. */
export class EnvReader {
  /** Every variable asked for, in order: the machine-readable list of our configuration. */
  readonly read = new Map<string, ConfigVariable>();

  constructor(private readonly env: Env) {}

  private note(name: string, fallback?: string | number): void {
    if (!this.read.has(name))
      this.read.set(name, { name, ...(fallback === undefined ? {} : { fallback: String(fallback) }) });
  }

  private raw(name: string, fallback?: string | number): string | undefined {
    this.note(name, fallback);
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name, fallback) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name, fallback);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be a whole number (got "${value}")`);
    const parsed = Number(value);
    if (parsed < min || parsed > max)
      throw new ConfigError(name, `must be between ${min} and ${max} (got ${parsed})`);
    return parsed;
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, 0, 65535);
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const value = this.raw(name, fallback) ?? fallback;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `must be a URL like ${fallback} (got "${value}")`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name, fallback) ?? fallback;
    if (!allowed.includes(value as T)) {
      throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
    }
    return value as T;
  }

  flag(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes'].includes(value)) return true;
    if (['0', 'false', 'no'].includes(value)) return false;
    throw new ConfigError(name, `must be true or false (got "${value}")`);
  }
}

/** A certificate file named by `variable` must be readable at start-up: a missing one stops the app by name. */
export function assertReadableFile(variable: string, path: string | undefined): void {
  if (path === undefined) return;
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ConfigError(variable, `cannot be read (${(error as Error).message})`);
  }
}
