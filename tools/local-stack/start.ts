import { parseArgs } from 'node:util';
import { READY, type ReadyLine } from './child';
import { startLocalStack } from './stack';

const { values } = parseArgs({
  options: {
    stage: { type: 'string', default: 'local' },
    endpoint: { type: 'string' },
    service: { type: 'string', multiple: true },
    'sqs-port': { type: 'string', default: process.env.SQS_PORT ?? '4566' },
    'dynamodb-port': { type: 'string', default: process.env.DYNAMODB_PORT ?? '8000' },
    'http-port': { type: 'string', default: process.env.HTTP_PORT ?? '3000' },
    'openai-port': { type: 'string', default: process.env.OPENAI_STUB_PORT ?? '4010' },
    machine: { type: 'boolean', default: false },
  },
});

async function main() {
  const started = Date.now();
  const stack = await startLocalStack({
    stage: values.stage!,
    endpoint: values.endpoint,
    services: values.service,
    ports: {
      sqs: Number(values['sqs-port']),
      dynamodb: Number(values['dynamodb-port']),
      httpBase: Number(values['http-port']),
      openai: Number(values['openai-port']),
    },
    quiet: values.machine,
    log: (line) => console.log(line),
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  for (const [name, url] of Object.entries(stack.urls)) console.log(`${name.padEnd(16)} ${url}`);
  console.log(
    `Offload local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s (Ctrl-C to stop)`,
  );
  // One machine-readable line for the test harness and the bench (spawnLocalStack reads it).
  if (values.machine) {
    const ready: ReadyLine = {
      urls: stack.urls,
      lambdaUrls: stack.lambdaUrls,
      endpoints: stack.endpoints,
      openaiBaseUrl: stack.openaiBaseUrl,
    };
    console.log(`${READY}${JSON.stringify(ready)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
