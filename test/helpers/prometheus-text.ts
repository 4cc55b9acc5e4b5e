/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: a malformed line, an unknown type, a sample
 * of an undeclared metric, a bad label or value, or a metric declared twice throws.
 */
export function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line)})`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) return; // a plain comment
      const [, kind, name, rest] = match;
      if (!NAME.test(name)) throw new Error(`bad metric name at ${where}`);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`unknown type at ${where}`);
        if (types.has(name)) throw new Error(`metric declared twice at ${where}`);
        types.set(name, rest);
      }
      return;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!match) throw new Error(`malformed sample at ${where}`);
    const [, name, , labelText, valueText] = match;
    const family = types.has(name)
      ? name
      : SUFFIXES.map((s) => name.replace(new RegExp(`${s}$`), '')).find((f) => types.has(f));
    if (!family) throw new Error(`sample of an undeclared metric at ${where}`);
    const value = parseValue(valueText);
    if (value === undefined) throw new Error(`bad value at ${where}`);
    samples.push({ name, labels: parseLabels(labelText ?? '', where), value });
  });
  return samples;
}

function parseValue(text: string): number | undefined {
  // Prometheus reads these case-insensitively (Go's ParseFloat); prom-client writes "Nan".
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : undefined;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const match = /^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
    if (!match || !LABEL_NAME.test(match[1])) throw new Error(`bad labels at ${where}`);
    if (match[1] in labels) throw new Error(`label repeated at ${where}`);
    labels[match[1]] = match[2].replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(match[0].length);
  }
  return labels;
}

/** The value of one sample, or 0 when the series does not exist (yet). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value ?? 0;
}

export async function scrape(baseUrl: string): Promise<Sample[]> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(response.headers.get('content-type') ?? ''))
    throw new Error(`unexpected content type ${response.headers.get('content-type')}`);
  return parsePrometheusText(await response.text());
}
