import { parsePrometheusText, valueOf } from '../helpers/prometheus-text';

// The parser the observability suite relies on to say "/metrics is valid Prometheus text" must refuse
// what Prometheus refuses.
describe('parsePrometheusText', () => {
  const valid = [
    '# HELP requests_total Requests.',
    '# TYPE requests_total counter',
    'requests_total{route="/a",code="x\\"y\\\\z"} 3',
    '# TYPE latency_seconds histogram',
    'latency_seconds_bucket{le="0.1"} 1',
    'latency_seconds_bucket{le="+Inf"} 2',
    'latency_seconds_sum 0.3',
    'latency_seconds_count 2',
    '# TYPE lag gauge',
    'lag Nan',
    '',
  ].join('\n');

  it('reads samples, labels (with escapes), histogram series and special values', () => {
    const samples = parsePrometheusText(valid);
    expect(samples).toHaveLength(6);
    expect(valueOf(samples, 'requests_total', { code: 'x"y\\z' })).toBe(3);
    expect(valueOf(samples, 'latency_seconds_bucket', { le: '+Inf' })).toBe(2);
    expect(Number.isNaN(valueOf(samples, 'lag'))).toBe(true);
  });

  it.each([
    ['a sample of an undeclared metric', 'undeclared 1'],
    ['a malformed line', '# TYPE a gauge\na{b="c" 1'],
    ['an unknown type', '# TYPE a thing\na 1'],
    ['a metric declared twice', '# TYPE a gauge\n# TYPE a gauge\na 1'],
    ['a bad value', '# TYPE a gauge\na one'],
    ['a repeated label', '# TYPE a gauge\na{b="1",b="2"} 1'],
    ['a bad label name', '# TYPE a gauge\na{1b="1"} 1'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
