// Our TypeScript runs through SWC (decorator metadata on). Nest 12 packages (and @kubernetes/client-node, used
// by the deploy-files test) are ES modules, which Jest on
// Node 20 cannot require: SWC turns them into CommonJS too. E2e suites spawn the compiled apps from dist/.
const swcTs = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' }, module: { type: 'commonjs' } }];
const swcJs = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swcTs, '^.+\\.m?js$': swcJs },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@kubernetes)/)'],
  moduleNameMapper: { '^@smsfleet/([^/]+)$': '<rootDir>/libs/$1/src' },
};
module.exports = {
  testTimeout: 120_000,
  // The longest suites first (test/suite-durations.js), so that `npm test` does not end on one alone.
  testSequencer: '<rootDir>/scripts/longest-first-sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,test}/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], slowTestThreshold: 60 },
  ],
};
