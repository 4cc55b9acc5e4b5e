// Preloaded into an app (SMSFLEET_APP_NODE_FLAGS="--require <this file>") to see where its allocations
// go: V8's sampling heap profiler, counting objects that scavenges already freed too (Node's own
// --heap-prof keeps only what is still alive). Written on SIGTERM, which is how the bench stops its apps,
// to $TMPDIR/smsfleet-heap-profiles/<pid>-<app>.heapprofile; open it in Chrome DevTools (Memory, Load).
const inspector = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const session = new inspector.Session();
session.connect();
session.post('HeapProfiler.enable');
session.post('HeapProfiler.startSampling', {
  samplingInterval: 16384,
  includeObjectsCollectedByMinorGC: true,
  includeObjectsCollectedByMajorGC: true,
});

let written = false;
process.on('SIGTERM', () => {
  if (written) return;
  written = true;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return;
    const dir = join(tmpdir(), 'smsfleet-heap-profiles');
    mkdirSync(dir, { recursive: true });
    const app = process.argv[1].split('/').slice(-3, -2)[0] ?? 'app';
    writeFileSync(join(dir, `${process.pid}-${app}.heapprofile`), JSON.stringify(result.profile));
  });
});
