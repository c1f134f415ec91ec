import { parseArgs } from 'node:util';
import { READY, SERVICE_EXITED, type ReadyLine } from './child';
import { describeExit, killEveryOffline } from './offline';
import { startLocalStack, type LocalStack } from './stack';

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
    // For load runs on a busy machine: serverless-offline ends a function instance whose run
    // overruns its timeout but keeps it in its pool, so every later request it serves times out.
    'no-timeout': { type: 'boolean', default: false },
  },
});

/** A stop that has not finished by then is forced: every service group gets SIGKILL. */
const STOP_DEADLINE_MS = 8000;

const starting = new AbortController();
let stack: LocalStack | undefined;
/** Set once a stop has begun: the exit code it will end with. */
let stopCode: number | undefined;

// Whatever way this process ends, the services' groups (detached, so they outlive us) end too.
process.on('exit', killEveryOffline);

/**
 * Stops the stack and exits with `code`. A second call while stopping (a second Ctrl-C) forces:
 * SIGKILL to every group and exit at once; so does a stop that overruns its deadline.
 */
async function shutdown(reason: string, code: number): Promise<void> {
  if (stopCode !== undefined) {
    console.log(`${reason}: forcing the local stack down`);
    process.exit(stopCode || 130);
  }
  stopCode = code;
  console.log(`\n${reason}: stopping the local stack`);
  setTimeout(() => {
    console.error(`The local stack did not stop within ${STOP_DEADLINE_MS / 1000} s; killing what is left`);
    process.exit(code || 1);
  }, STOP_DEADLINE_MS).unref();
  starting.abort();
  // While starting, startLocalStack stops what it started itself before it rejects (see main).
  if (stack) {
    try {
      await stack.stop();
    } finally {
      process.exit(code);
    }
  }
}

process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));

// `npm start` killed outright (SIGKILL) cannot pass a signal on; we notice when it is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown('The process that started the local stack exited', 1);
}, 1000).unref();

async function main() {
  const started = Date.now();
  stack = await startLocalStack({
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
    noTimeout: values['no-timeout'],
    log: (line) => console.log(line),
    signal: starting.signal,
  });

  // Fail fast rather than restart: a stack with one service missing hides the problem.
  void stack.failed.then((exit) => {
    console.error(
      `${SERVICE_EXITED}${exit.name}: its serverless offline ended with ${describeExit(exit)}, ` +
        `so the local stack stops. Its last output:${exit.lastLines.length ? '' : ' (none)'}`,
    );
    for (const line of exit.lastLines) console.error(`  [${exit.name}] ${line}`);
    void shutdown(`${exit.name} exited`, 1);
  });

  for (const [name, url] of Object.entries(stack.urls)) console.log(`${name.padEnd(16)} ${url}`);
  // Connect with ?key=<api key>; see the README's live updates section.
  for (const url of Object.values(stack.websocketUrls)) console.log(`WebSocket: ${url}`);
  if (stack.jobsPageUrl) console.log(`Jobs page: ${stack.jobsPageUrl}`);
  console.log(
    `Offload local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s on Node ${process.version} (Ctrl-C to stop)`,
  );
  // One machine-readable line for the test harness and the bench (spawnLocalStack reads it).
  if (values.machine) {
    const ready: ReadyLine = {
      urls: stack.urls,
      websocketUrls: stack.websocketUrls,
      lambdaUrls: stack.lambdaUrls,
      endpoints: stack.endpoints,
      openaiBaseUrl: stack.openaiBaseUrl,
      jobsPageUrl: stack.jobsPageUrl,
      pids: stack.pids,
    };
    console.log(`${READY}${JSON.stringify(ready)}`);
  }
}

main().catch((error: unknown) => {
  // A stop requested while starting ends here too, once startLocalStack has cleaned up.
  if (stopCode !== undefined) process.exit(stopCode);
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
