// Where a process's CPU went, from a V8 .cpuprofile (written by SMSFLEET_APP_NODE_FLAGS="--cpu-prof
// --cpu-prof-dir=DIR"): self time per package and per function, idle excluded, optionally only between two
// moments (seconds since the profile started) so that start-up does not blur a drain. Without a window it
// prints the busy time per second first, to find one.
//   node scripts/cpu-profile-summary.js FILE.cpuprofile [FROM_S TO_S]
const { readFileSync } = require('node:fs');

const [file, from, to] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/cpu-profile-summary.js FILE.cpuprofile [FROM_S TO_S]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));

/** The package a frame belongs to: node_modules/<pkg>, our dist/<path>, node:<module>, or V8's own name. */
function packageOf({ url, functionName }) {
  const inModules = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1];
  if (url.includes('/dist/')) return `ours:${url.split('/dist/').pop()}`;
  if (url.startsWith('node:')) return url;
  return functionName || '(anonymous)';
}

const perSecond = new Map();
const byPackage = new Map();
const byFunction = new Map();
const add = (map, key, us) => map.set(key, (map.get(key) ?? 0) + us);
let busyUs = 0;
let at = profile.startTime;
profile.samples.forEach((id, index) => {
  const us = profile.timeDeltas[index];
  at += us;
  const frame = frames.get(id);
  if (frame.functionName === '(idle)') return;
  const second = (at - profile.startTime) / 1e6;
  add(perSecond, Math.floor(second), us);
  if (from !== undefined && (second < Number(from) || second >= Number(to))) return;
  busyUs += us;
  add(byPackage, packageOf(frame), us);
  add(
    byFunction,
    `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`,
    us,
  );
});

if (from === undefined)
  console.log(
    'busy % per second:',
    [...perSecond].map(([second, us]) => `${second}:${Math.round(us / 1e4)}`).join(' '),
  );
const top = (map, n) =>
  [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([key, us]) =>
        `  ${(us / 1e3).toFixed(0).padStart(6)} ms ${((us / busyUs) * 100).toFixed(1).padStart(5)} %  ${key}`,
    )
    .join('\n');
console.log(
  `busy ${(busyUs / 1e3).toFixed(0)} ms${from === undefined ? '' : ` between ${from} s and ${to} s`}`,
);
console.log(`by package:\n${top(byPackage, 25)}\nby function:\n${top(byFunction, 25)}`);
