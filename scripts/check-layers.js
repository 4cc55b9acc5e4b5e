// The layers of the repository, checked on every `npm run lint`: libraries import no app, tool or test;
// an app imports no other app, no tool and no test; tools import no test; no import cycle between
// libraries. Walks the import specifiers of every .ts/.tsx file (a regex, not a parser: fast, and our
// imports are all written `from '…'`, `import('…')` or `require('…')`).
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const TOP = ['apps', 'libs', 'tools', 'test'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)'([^']+)'/gm;

function* sources(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(full);
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield full;
  }
}

/** "libs/queueing", "apps/api", "tools", "test": the unit a file belongs to. */
function unitOf(relative) {
  const [top, second] = relative.split('/');
  return top === 'apps' || top === 'libs' ? `${top}/${second}` : top;
}

function targetOf(file, specifier) {
  const lib = /^@smsfleet\/([^/]+)/.exec(specifier);
  if (lib) return `libs/${lib[1]}`;
  if (!specifier.startsWith('.')) return undefined; // a package
  return unitOf(
    path
      .relative(ROOT, path.resolve(path.dirname(file), specifier))
      .split(path.sep)
      .join('/'),
  );
}

function refusal(from, to) {
  if (from === to) return undefined;
  const [fromTop] = from.split('/');
  const [toTop] = to.split('/');
  if (fromTop === 'libs' && toTop !== 'libs') return 'a library imports no app, tool or test';
  if (fromTop === 'apps' && toTop !== 'libs') return 'an app imports only libraries';
  if (fromTop === 'tools' && toTop === 'test') return 'tools import no test code';
  if (!TOP.includes(toTop)) return 'an import leaves the repository';
  return undefined;
}

const problems = [];
const libEdges = new Map();
for (const top of TOP) {
  for (const file of sources(path.join(ROOT, top))) {
    const relative = path.relative(ROOT, file).split(path.sep).join('/');
    const from = unitOf(relative);
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const to = targetOf(file, match[1]);
      if (!to) continue;
      const why = refusal(from, to);
      if (why) problems.push(`${relative}: imports '${match[1]}' (${to}): ${why}`);
      if (from.startsWith('libs/') && to.startsWith('libs/') && from !== to) {
        if (!libEdges.has(from)) libEdges.set(from, new Set());
        libEdges.get(from).add(to);
      }
    }
  }
}

// Cycles between libraries: depth-first search, reporting each cycle's path once.
const state = new Map();
const stack = [];
function visit(lib) {
  state.set(lib, 'open');
  stack.push(lib);
  for (const next of libEdges.get(lib) ?? []) {
    if (state.get(next) === 'open')
      problems.push(`import cycle: ${[...stack.slice(stack.indexOf(next)), next].join(' → ')}`);
    else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(lib, 'done');
}
for (const lib of libEdges.keys()) if (!state.has(lib)) visit(lib);

if (problems.length) {
  console.error(`layer check: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exit(1);
}
