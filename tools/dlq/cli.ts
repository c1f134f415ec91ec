import { parseArgs } from 'node:util';
import { clientSettings } from './config';
import { bySentTime, describeMessage } from './domain';
import { formatDlqTable, formatPeek, formatRedriveResult } from './format';
import { createClient, DlqTool } from './sqs';

const USAGE = `Usage: npm run dlq -- <command> [options]

  list                      every *-dlq / *-dlq.fifo queue: depth and the queues that redrive into it
  peek <queue>              show messages (name or URL) without consuming them
  redrive <dlq>             move the messages it holds back to its source queue, each once

Options:
  --prefix <p>     queue name prefix to look under (default offload-)
  --max <n>        peek: at most n messages (default 10)
  --json           print JSON lines (peek: full bodies and attributes)
  --to <queue>     redrive: destination (default: the DLQ's only source queue)
  --dry-run        redrive: show what would move, move nothing
  --manual         redrive: receive/send/delete even where StartMessageMoveTask exists
                   (drops the failure_* attributes and counts the redrive; a move task
                   keeps every attribute as it is)
  --local          use the local stack's endpoint (http://127.0.0.1:4566, or SQS_PORT)
  --endpoint <url> SQS endpoint (default AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, else AWS)
  --region <r>     default AWS_REGION, else us-east-1`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    prefix: { type: 'string', default: 'offload-' },
    max: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    to: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    manual: { type: 'boolean', default: false },
    local: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const [command, queueArg] = positionals;
const settings = clientSettings(
  { endpoint: values.endpoint, local: values.local, region: values.region },
  process.env,
);
// Progress goes to stderr, so stdout stays the result (a table or JSON lines).
const tool = new DlqTool(createClient(settings), (line) => console.error(line));
const prefix = values.prefix!;

class UsageError extends Error {}

function requireQueue(): string {
  if (!queueArg) throw new UsageError(`${command} needs a queue name or URL`);
  return queueArg;
}

async function list() {
  const dlqs = await tool.list(prefix);
  if (values.json) for (const dlq of dlqs) console.log(JSON.stringify(dlq));
  else console.log(formatDlqTable(dlqs));
}

async function peek() {
  const max = Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new UsageError('--max must be a positive whole number');
  const queue = await tool.queue(requireQueue());
  const messages = bySentTime((await tool.peek(queue, max)).map(describeMessage));
  if (values.json) for (const message of messages) console.log(JSON.stringify(message));
  else console.log(formatPeek(queue.name, messages, { depth: queue.depth, fifo: queue.fifo }));
}

async function redrive() {
  const dlq = await tool.queue(requireQueue());
  const destination = await tool.destination(dlq, values.to, prefix);
  if (values['dry-run']) {
    console.log(`Dry run: would move ~${dlq.depth} message(s) from ${dlq.name} to ${destination.name}`);
    const messages = bySentTime((await tool.peek(dlq, Number(values.max) || 10)).map(describeMessage));
    console.log(formatPeek(dlq.name, messages, { depth: dlq.depth, fifo: dlq.fifo }));
    return;
  }
  console.error(`Redriving ${dlq.name} (~${dlq.depth} message(s)) to ${destination.name}`);
  const result = await tool.redrive(dlq, destination, { manual: values.manual });
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(formatRedriveResult(result));
  }
  if (result.failed > 0) process.exitCode = 1;
}

async function main() {
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const commands: Record<string, () => Promise<void>> = { list, peek, redrive };
  const run = commands[command];
  if (!run) throw new UsageError(`Unknown command ${command}`);
  await run();
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  process.exit(1);
});
