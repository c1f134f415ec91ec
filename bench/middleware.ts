import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createTaskBodySchema, taskSubmitted, type TaskSubmitted } from '@offload/messages';
// The SQS stack's own module, not the package index: the index also loads the HTTP stack, whose
// JSON import tsx cannot load under `--conditions=import` (see bench/run.ts).
import { sqsWorker } from '../libs/middleware/src/sqs';
import { ROOT } from '../tools/local-stack/services';
import { newTask, taskSubmittedMessage } from '../services/task-api/src/domain/tasks';
import { rowFromSamples, type BenchOptions, type Row } from './types';

const GROUP = 'middleware';
const BATCH_SIZE = 10;
const TASK_API = path.join(ROOT, 'services', 'task-api');

/** What a Lambda invocation gets, minus what none of the variants reads. */
const context: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'offload-bench-processTasks',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:offload-bench-processTasks',
  memoryLimitInMB: '256',
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/offload-bench-processTasks',
  logStreamName: 'bench',
  // Real contexts have it, and Middy arms its early-timeout timer only when it is there.
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/**
 * `records` task messages in SQS events of 10, shaped like the sample event of processTasks and
 * built the way createTask builds them: the sample POST body, `newTask`, `taskSubmittedMessage`.
 */
export function taskEvents(records: number): SQSEvent[] {
  const readEvent = <T>(name: string) =>
    JSON.parse(readFileSync(path.join(TASK_API, 'events', name), 'utf8')) as T;
  const post = readEvent<{ body: string }>('createTask.json');
  const template = readEvent<SQSEvent>('processTasks.json').Records[0]!;
  const body = createTaskBodySchema.parse(JSON.parse(post.body));
  const now = new Date().toISOString();

  const events: SQSEvent[] = [];
  for (let start = 0; start < records; start += BATCH_SIZE) {
    const batch: SQSRecord[] = [];
    for (let index = start; index < Math.min(start + BATCH_SIZE, records); index++) {
      const message = taskSubmittedMessage(newTask(body, randomUUID(), now, 'bench'), `bench-${index}`);
      const messageId = randomUUID();
      batch.push({
        ...template,
        messageId,
        receiptHandle: `bench-${index}`,
        body: JSON.stringify(message),
        attributes: { ...template.attributes, MessageDeduplicationId: messageId },
      });
    }
    events.push({ Records: batch });
  }
  // Every variant must take the success path, or the bench measures something else.
  taskSubmitted.parse(JSON.parse(events[0]!.Records[0]!.body));
  return events;
}

interface Variant {
  name: string;
  invoke(event: SQSEvent): Promise<SQSBatchResponse>;
}

export function variants(handle: (message: TaskSubmitted) => Promise<void>) {
  const parse = (record: SQSRecord) => taskSubmitted.parse(JSON.parse(record.body));
  const worker = (fifo: boolean) =>
    sqsWorker({
      schema: taskSubmitted,
      recordHandler: handle,
      // Never used: a DLQ move happens only on a failure, and every record here succeeds.
      dlqName: 'offload-bench-dlq.fifo',
      maxReceiveCount: 3,
      fifo,
    });
  const standard = worker(false);
  const fifo = worker(true);
  const processor = new BatchProcessor(EventType.SQS);

  const baseline: Variant = {
    name: 'hand-written loop',
    async invoke(event) {
      for (const record of event.Records) await handle(parse(record));
      return { batchItemFailures: [] };
    },
  };
  const compared: Variant[] = [
    { name: 'sqsWorker (standard queue)', invoke: (event) => standard(event, context) },
    { name: 'sqsWorker (FIFO, as processTasks)', invoke: (event) => fifo(event, context) },
    {
      name: 'Powertools BatchProcessor',
      invoke: (event) =>
        processPartialResponse(event, (record: SQSRecord) => handle(parse(record)), processor, { context }),
    },
  ];
  return { baseline, compared };
}

/**
 * Swaps stdout for a sink that only counts: the stack writes a metrics (EMF) line per invocation,
 * which would flood the table. Building the line is measured; the terminal's cost is not.
 */
function discardStdout() {
  const write = process.stdout.write;
  const sink = { chars: 0 };
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    sink.chars += chunk.length;
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return { sink, restore: () => void (process.stdout.write = write) };
}

/**
 * One pass over the events; returns CPU ns per record. CPU time (user + system, this process),
 * not wall time: on a shared machine a pass's wall time also counts the time other processes
 * held the core, which swung single variants by 2x between rounds.
 */
async function pass(variant: Variant, events: SQSEvent[]): Promise<number> {
  let records = 0;
  let failures = 0;
  const start = process.cpuUsage();
  for (const event of events) {
    const out = await variant.invoke(event);
    failures += out.batchItemFailures.length;
    records += event.Records.length;
  }
  const used = process.cpuUsage(start);
  if (failures > 0) throw new Error(`${variant.name}: ${failures} records failed; the bench expects none`);
  return ((used.user + used.system) * 1000) / records;
}

/**
 * Per-record cost of the shared SQS worker stack against a hand-written loop doing the same
 * parse and handler, and against Powertools' batch processor. Variants run interleaved, in a
 * rotating order, for several rounds after a warm-up; each figure is the median round.
 */
export async function run(options: BenchOptions): Promise<Row[]> {
  const records = options.quick ? 10_000 : 100_000;
  const rounds = options.quick ? 3 : 7;
  const events = taskEvents(records);

  let handled = 0;
  const handle = async (message: TaskSubmitted) => {
    if (message.data.task_id.length > 0) handled++;
  };
  const { baseline, compared } = variants(handle);
  const all = [baseline, ...compared];

  const stdout = discardStdout();
  const samples = new Map<Variant, number[]>(all.map((variant) => [variant, []]));
  const written = new Map<Variant, number>();
  try {
    options.log(`${GROUP}: warm-up`);
    const warmup = events.slice(0, Math.min(events.length, 2_000));
    for (let i = 0; i < 3; i++) for (const variant of all) await pass(variant, warmup);

    handled = 0;
    for (let round = 0; round < rounds; round++) {
      options.log(`${GROUP}: round ${round + 1}/${rounds} (${records.toLocaleString('en-US')} records each)`);
      for (let i = 0; i < all.length; i++) {
        const variant = all[(round + i) % all.length]!;
        const before = stdout.sink.chars;
        samples.get(variant)!.push(await pass(variant, events));
        written.set(variant, (written.get(variant) ?? 0) + stdout.sink.chars - before);
      }
    }
  } finally {
    stdout.restore();
  }
  if (handled !== records * rounds * all.length) {
    throw new Error(`the handler ran ${handled} times, expected ${records * rounds * all.length}`);
  }
  for (const [variant, chars] of written) {
    const perInvocation = chars / (events.length * rounds);
    if (chars > 0)
      options.log(
        `${GROUP}: ${variant.name} wrote ${perInvocation.toFixed(0)} chars to stdout per invocation (discarded)`,
      );
  }

  return compared.map((variant) =>
    rowFromSamples(
      {
        group: GROUP,
        name: variant.name,
        unit: 'CPU ns/record',
        baseline: baseline.name,
      },
      samples.get(variant)!,
      samples.get(baseline)!,
    ),
  );
}
