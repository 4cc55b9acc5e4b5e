// Refreshes test/suite-durations.js (the order of `npm test`, scripts/longest-first-sequencer.js) from jest
// JSON reports: `npm test -- --json --outputFile=report.json`, then `node scripts/suite-durations.js
// report.json`. Suites the reports hold get their duration there; the others keep theirs, and suites that
// no longer exist are dropped. Durations beside another suite (the first run of `npm test`) are longer
// than alone, which is the figure that matters for the order.
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const TABLE = join(ROOT, 'test', 'suite-durations.js');

function main(reports) {
  if (!reports.length) throw new Error('usage: node scripts/suite-durations.js <jest-report.json> …');
  const text = readFileSync(TABLE, 'utf8');
  const header = text.slice(0, text.indexOf('module.exports'));
  const durations = { ...require(TABLE) };
  for (const file of reports)
    for (const result of JSON.parse(readFileSync(file, 'utf8')).testResults ?? []) {
      const path = relative(ROOT, result.name).split('\\').join('/');
      if (path.endsWith('.e2e-spec.ts') && result.endTime > result.startTime)
        durations[path] = Math.round((result.endTime - result.startTime) / 1000);
    }
  const kept = Object.entries(durations)
    .filter(([path]) => existsSync(join(ROOT, path)))
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const lines = kept.map(([path, seconds]) => `  '${path}': ${seconds},`);
  writeFileSync(TABLE, `${header}module.exports = {\n${lines.join('\n')}\n};\n`);
  console.log(`test/suite-durations.js: ${kept.length} suites`);
}

main(process.argv.slice(2));
