// Jest's order for both runs of `npm test` (jest.config.js): suites that failed last time first, then the
// longest first, so that two workers do not end with one long suite running alone. A suite's length is
// what jest's cache recorded on this machine, else its figure in test/suite-durations.js (a clean clone,
// as in CI, has no cache), else a guess: an e2e suite not measured yet as an average one, a unit test
// file as a short one. Jest's own order falls back to file size, which put t0-smoke (2 minutes, small
// file) after dozens of shorter suites.
const Sequencer = require('@jest/test-sequencer').default;
const { relative } = require('node:path');
const DURATIONS = require('../test/suite-durations');

const UNMEASURED_E2E_SECONDS = 20;
const UNMEASURED_UNIT_SECONDS = 1;

class LongestFirstSequencer extends Sequencer {
  /** Expected seconds of one test file. */
  expectedSeconds(test) {
    const cachedMs = this.time(test);
    if (cachedMs) return cachedMs / 1000;
    const path = relative(test.context.config.rootDir, test.path).split('\\').join('/');
    if (DURATIONS[path] !== undefined) return DURATIONS[path];
    return test.path.endsWith('.e2e-spec.ts') ? UNMEASURED_E2E_SECONDS : UNMEASURED_UNIT_SECONDS;
  }

  sort(tests) {
    const expected = new Map(tests.map((test) => [test, this.expectedSeconds(test)]));
    return [...tests].sort(
      (a, b) =>
        Number(this.hasFailed(b)) - Number(this.hasFailed(a)) ||
        expected.get(b) - expected.get(a) ||
        (a.path < b.path ? -1 : 1),
    );
  }
}

module.exports = LongestFirstSequencer;
