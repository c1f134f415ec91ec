import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/.serverless/**',
      '**/.esbuild/**',
      '**/.esbuild-offline/**',
      'bench/results/**',
      // npm run build:page output and the browser test's screenshots.
      'dist/**',
      'test-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // The local runner and benchmarks are CLIs: printing is their job.
    files: ['tools/**', 'bench/**', 'libs/testing/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Domain code is plain TypeScript: no Lambda event types, AWS clients or Middy stacks, and
    // no HTTP types (it throws domain errors from @offload/errors; the HTTP edge maps them).
    files: ['services/*/src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@offload/middleware', '@offload/middleware/*', '@offload/aws', '@offload/aws/*'],
              message: 'Domain code takes its adapters as deps and throws domain errors.',
            },
            {
              group: ['aws-lambda', '@aws-sdk/*', '@middy/*'],
              message: 'Domain code knows no AWS or HTTP types.',
            },
          ],
        },
      ],
    },
  },
  {
    // Variable sources and plugins the Serverless CLI loads with require(): CommonJS by necessity.
    files: ['serverless/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
