// Units run from TypeScript through SWC (decorator metadata on); e2e suites spawn the compiled apps.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' } }];
const moduleNameMapper = { '^@smsfleet/(.*)$': '<rootDir>/libs/$1/src' };
module.exports = {
  projects: [
    { displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'], transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node' },
    { displayName: 'e2e', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node', testTimeout: 120000 },
  ],
};
