import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { spawnLocalStack, type StackChild } from '../../../../tools/local-stack/child';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

declare global {
  var __OFFLOAD_STACK__: StackChild | undefined;
}

/**
 * Starts the same local stack as `npm start` (stage `test`, free emulator ports) and hands its
 * URLs and endpoints to the tests through the environment they inherit.
 */
export default async function globalSetup(): Promise<void> {
  // The services' own logs go to a file (printed with OFFLOAD_TEST_VERBOSE=1), so test output
  // stays readable and a failure can still be traced to the function's log lines.
  const log = process.env.OFFLOAD_TEST_VERBOSE
    ? process.stderr
    : createWriteStream(path.join(ROOT, 'integration-stack.log'));
  const stack = await spawnLocalStack(
    [
      '--stage',
      'test',
      '--sqs-port',
      '0',
      '--dynamodb-port',
      '0',
      '--openai-port',
      '0',
      '--http-port',
      process.env.TEST_HTTP_PORT ?? '13000',
      // TEST_SERVICES=batch-poller (comma-separated) starts only the services a suite needs, which
      // is what lets a single suite start in time on a loaded machine.
      ...(process.env.TEST_SERVICES ?? '')
        .split(',')
        .map((service) => service.trim())
        .filter(Boolean)
        .flatMap((service) => ['--service', service]),
    ],
    log,
  );
  globalThis.__OFFLOAD_STACK__ = stack;
  // A service that dies stops the whole stack (fail fast); say so here, or every later test just
  // fails to connect.
  void stack.failed.then(({ code, report }) =>
    process.stderr.write(
      `\nThe local stack stopped during the tests (exit code ${code})${report ? `: ${report}` : ''}; ` +
        `its output is in integration-stack.log\n`,
    ),
  );
  const { ready } = stack;

  const envName = (service: string) => service.toUpperCase().replace(/-/g, '_');
  for (const [service, url] of Object.entries(ready.urls)) process.env[`${envName(service)}_URL`] = url;
  for (const [service, url] of Object.entries(ready.websocketUrls))
    process.env[`${envName(service)}_WS_URL`] = url;
  for (const [service, url] of Object.entries(ready.lambdaUrls))
    process.env[`${envName(service)}_LAMBDA_URL`] = url;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: ready.endpoints.sqs,
    AWS_ENDPOINT_URL_SNS: ready.endpoints.sns,
    AWS_ENDPOINT_URL_DYNAMODB: ready.endpoints.dynamodb,
    OPENAI_BASE_URL: ready.openaiBaseUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
}
