import { stdSerializers } from 'pino';

/**
 * Properties that carry a failed command's data: TypeORM's query and its bound parameters (message bodies,
 * phone numbers, secret hashes), PostgreSQL's detail ("Key (user_id, phone)=(5, +49…)", "Failing row
 * contains (…)") and context, a Redis command's arguments (job data). Dropped wherever they are nested.
 */
const DATA_CARRYING = new Set(['parameters', 'query', 'detail', 'where', 'internalQuery', 'args']);
const MAX_DEPTH = 5;

/**
 * pino's `err` serializer (type, message with causes, stack, own properties), without the data of the
 * command that failed: logs never carry message bodies or numbers, also when a query fails. A value
 * quoted at the end of a message (`invalid input syntax for type bigint: "+49…"`) is redacted too.
 */
export function serializeError(error: unknown): unknown {
  if (error === null || typeof error !== 'object') return error;
  // pino-http hands over what it has already serialized (a plain object): only scrubbed then.
  return scrub(error instanceof Error ? stdSerializers.err(error) : error, 0);
}

function scrub(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (DATA_CARRYING.has(key)) continue;
    const item = source[key];
    if (key === 'command' && item !== null && typeof item === 'object')
      out.command = { name: (item as { name?: unknown }).name };
    else if (key === 'message' && typeof item === 'string') out.message = redactQuotedValue(item);
    else if (key === 'stack' && typeof item === 'string') out.stack = redactQuotedValue(item);
    else out[key] = scrub(item, depth + 1);
  }
  return out;
}

/** `…: "a value"` at the end of a line: PostgreSQL's way of quoting the input it refused. */
function redactQuotedValue(text: string): string {
  return text.replace(/(: )"[^\n]*"(?=\n|$)/g, '$1"[redacted]"');
}
