/** `--name value` and `--flag` pairs of a command line. */
export function parseArgs(argv: string[]): { command?: string; options: Map<string, string> } {
  const options = new Map<string, string>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      if (inline !== undefined) options.set(name, inline);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) options.set(name, argv[++i]);
      else options.set(name, 'true');
    } else if (command === undefined) {
      command = arg;
    }
  }
  return { command, options };
}

export function requireOption(options: Map<string, string>, name: string): string {
  const value = options.get(name);
  if (value === undefined || value === 'true') throw new UsageError(`--${name} is required`);
  return value;
}

/** A numeric option within [min, max]; `fallback` when absent. */
export function numberOption(
  options: Map<string, string>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
  return value;
}

export class UsageError extends Error {}
