import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const READY = 'OFFLOAD_READY ';

declare global {
  var __OFFLOAD_STACK__: ChildProcess | undefined;
}

/**
 * Starts the same local stack as `npm start` (stage `test`, free emulator ports) and hands its
 * URLs and endpoints to the tests through the environment they inherit.
 */
export default async function globalSetup(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'tools/local-stack/start.ts',
      '--stage',
      'test',
      '--machine',
      '--sqs-port',
      '0',
      '--dynamodb-port',
      '0',
      '--openai-port',
      '0',
      '--http-port',
      process.env.TEST_HTTP_PORT ?? '13000',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // The services' own logs go to a file (printed with OFFLOAD_TEST_VERBOSE=1), so test output
  // stays readable and a failure can still be traced to the function's log lines.
  const log = createWriteStream(path.join(ROOT, 'integration-stack.log'));
  child.stderr!.pipe(process.env.OFFLOAD_TEST_VERBOSE ? process.stderr : log);
  globalThis.__OFFLOAD_STACK__ = child;

  const ready = await new Promise<{
    urls: Record<string, string>;
    lambdaUrls: Record<string, string>;
    endpoints: Record<string, string>;
    openaiBaseUrl: string;
  }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('The local stack was not ready within 180 s')), 180_000);
    child.once('exit', (code) =>
      reject(new Error(`The local stack exited with code ${code} before it was ready`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith(READY)) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(READY.length)));
      } else {
        log.write(`${line}\n`);
      }
    });
  });

  const envName = (service: string) => service.toUpperCase().replace(/-/g, '_');
  for (const [service, url] of Object.entries(ready.urls)) process.env[`${envName(service)}_URL`] = url;
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
