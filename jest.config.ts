import type { Config } from 'jest';

// swc strips types only; `npm run typecheck` is the type gate, so tests stay fast.
const transform: Config['transform'] = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  // Middy and Powertools ship ESM only; swc turns them into CommonJS for jest's module system.
  '^.+\\.m?js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
};
const transformIgnorePatterns = ['/node_modules/(?!(@middy|@aws-lambda-powertools)/)'];
// Middy 7 exports only an `import` condition, which jest's CommonJS resolver does not match; point
// it at the ESM entry (transformed by swc above).
const moduleNameMapper = { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' };

const config: Config = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      setupFiles: ['<rootDir>/libs/testing/src/jest/quietLogs.ts'],
      testMatch: [
        '<rootDir>/libs/*/src/**/*.test.ts',
        '<rootDir>/services/*/test/unit/**/*.test.ts',
        '<rootDir>/tools/**/*.test.ts',
        '<rootDir>/web/*/src/**/*.test.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.test\\.ts$'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      testMatch: [
        '<rootDir>/services/*/test/integration/**/*.test.ts',
        '<rootDir>/tools/*/test/**/*.integration.test.ts',
        '<rootDir>/web/*/test/**/*.integration.test.ts',
      ],
      globalSetup: '<rootDir>/libs/testing/src/jest/globalSetup.ts',
      globalTeardown: '<rootDir>/libs/testing/src/jest/globalTeardown.ts',
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest/integrationTimeout.ts'],
    },
  ],
};

export default config;
