/**
 * One Jest run, three kinds of test (unit, workflow on the time-skipping server, HTTP integration
 * against a real Temporal dev server and PostgreSQL). The servers are started once for the run in
 * the global set-up and shared by every file through environment variables.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  // Two files at a time, each in its own process (Temporal's native runtime is per process), against
  // the shared servers: on this 2-core machine Jest takes ~7.5 min instead of 10-12.
  maxWorkers: 2,
};
