import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BatchGetItemCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTaskBodySchema } from '@offload/messages';
import { spawnLocalStack, type StackChild } from '../tools/local-stack/child';
import { isListening } from '../tools/local-stack/offline';
import { ROOT } from '../tools/local-stack/services';
import { newTask, taskSubmittedMessage } from '../services/task-api/src/domain/tasks';
import { param, readService } from './serverless';
import { median, rowFromSamples, type BenchOptions, type Row } from './types';

const GROUP = 'pipeline';
// The stage `npm start` runs: its API keys resolve locally (a stage without them serves no route),
// and its queue and timeouts are the deployed ones (the `test` stage's 3 s ones time out when busy).
const STAGE = 'local';
const CALLER = { 'x-api-key': 'dev-key-alice' };
const SERVICE = 'task-api';
// BENCH_HTTP_PORT moves the bench's stacks off the default ports (this one, +300 for cost).
const HTTP_PORT = Number(process.env.BENCH_HTTP_PORT ?? 15000);
const POST_CONCURRENCY = 4;
const WARM_UP_ATTEMPTS = 3;
const POLL_MS = 500;
const STALL_MS = 90_000;
// Queue attributes a throwaway queue can copy as they are (no redrive: nothing fails here).
const COPIED_ATTRIBUTES = [
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'DelaySeconds',
  'MaximumMessageSize',
];

/**
 * CPU milliseconds (user + system, every thread) a process has used so far, from /proc; undefined
 * where there is none. Clock ticks are 100 a second on Linux.
 */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU time per task of each process while `measure` runs: where a saturated machine's time goes. */
async function withCpu<T>(
  stack: Stack,
  count: number,
  measure: () => Promise<T>,
): Promise<{ result: T; cpu: Record<string, number> }> {
  const processes = { emulators: stack.pids.emulators, functions: stack.pids.functions, bench: process.pid };
  const before = Object.entries(processes).map(([name, pid]) => [name, pid, cpuMs(pid)] as const);
  const result = await measure();
  const cpu: Record<string, number> = {};
  for (const [name, pid, start] of before) {
    const end = cpuMs(pid);
    if (start !== undefined && end !== undefined) cpu[`cpu ms per task: ${name}`] = (end - start) / count;
  }
  return { result, cpu };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Stack {
  url: string;
  endpoints: { sqs: string; dynamodb: string };
  /** Processes whose CPU time the rows break down: the emulators run in the stack's own process. */
  pids: { emulators: number; functions: number };
  /** The stack's output (serverless-offline's warnings and errors included). */
  logFile: string;
  stop(): Promise<void>;
}

/** `npm start` for the task-api alone, as a child process; resolves on its machine-readable ready line. */
async function startStack(): Promise<Stack> {
  // The stack's own output goes to a temporary log, kept only when something went wrong.
  const logFile = path.join(tmpdir(), `offload-bench-stack-${Date.now()}.log`);
  const log = createWriteStream(logFile);
  const args = ['--stage', STAGE, '--service', SERVICE, '--http-port', String(HTTP_PORT)];
  const ports = ['--sqs-port', '0', '--dynamodb-port', '0', '--openai-port', '0'];
  // A cold load that overruns createTask's 10 s on a loaded machine would leave serverless-offline
  // a dead instance that times out every request it gets; no run here relies on a timeout.
  const flags = ['--no-timeout'];
  let child: StackChild;
  try {
    child = await spawnLocalStack([...args, ...ports, ...flags], log);
  } catch (error) {
    log.end();
    throw new Error(`${(error as Error).message} (its output: ${logFile})`, { cause: error });
  }
  const stop = async () => {
    await child.stop(30_000);
    log.end();
    for (const port of [HTTP_PORT, HTTP_PORT + 100]) {
      if (await isListening(port))
        console.warn(`${GROUP}: port ${port} still answers after the stack stopped`);
    }
  };
  const url = child.ready.urls[SERVICE];
  if (!url) {
    await stop();
    throw new Error(`no URL for ${SERVICE} in the ready line (its output: ${logFile})`);
  }
  const pids = { emulators: child.child.pid!, functions: child.ready.pids[SERVICE]! };
  return { url, endpoints: child.ready.endpoints, pids, logFile, stop };
}

/** The sample POST body from the service's events, and task messages built as createTask builds them. */
function taskSamples() {
  const event = JSON.parse(
    readFileSync(path.join(ROOT, 'services', SERVICE, 'events', 'createTask.json'), 'utf8'),
  ) as { body: string };
  const body = JSON.parse(event.body) as Record<string, unknown>;
  const parsed = createTaskBodySchema.parse(body);
  return {
    parsed,
    postBody: (index: number) => JSON.stringify({ ...body, title: `${String(body.title)} #${index}` }),
    messageBody: () =>
      JSON.stringify(
        taskSubmittedMessage(newTask(parsed, randomUUID(), new Date().toISOString(), 'bench'), 'bench'),
      ),
  };
}

async function mapLimit<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

/** Resolves once every submitted task is completed; each id is reported as it is accepted. */
type Submit = (accepted: (taskId: string) => void) => Promise<void>;

interface PipelineTiming {
  /** Tasks per second from the first submission to the poll that saw the last one completed. */
  total: number;
  /** Tasks per second from the first submission to the last one accepted. */
  accepted: number;
}

/**
 * Runs `submit` and reads the tasks' status straight from the table every 500 ms until all
 * `count` are completed.
 */
async function pipelineRate(
  stack: Stack,
  dynamo: DynamoDBClient,
  table: string,
  count: number,
  options: BenchOptions,
  diagnose: () => Promise<string>,
  submit: Submit,
): Promise<PipelineTiming> {
  const submitted: string[] = [];
  const completed = new Set<string>();
  const status = new Map<string, string>();
  let submitting = true;
  let submitError: unknown;
  const started = performance.now();
  let acceptedAt = started;

  const submission = submit((taskId) => submitted.push(taskId))
    .then(() => (acceptedAt = performance.now()))
    .catch((error: unknown) => (submitError = error))
    .finally(() => (submitting = false));

  // Tasks complete in roughly submission order (one FIFO group), so each poll walks the pending
  // ids from the oldest and stops at the first BatchGet that still finds one unfinished.
  const poll = async () => {
    const pending = submitted.filter((id) => !completed.has(id));
    for (let start = 0; start < pending.length; start += 100) {
      const ids = pending.slice(start, start + 100);
      const out = await dynamo.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: ids.map((id) => ({ task_id: { S: id } })),
              ProjectionExpression: 'task_id, #status, #error',
              ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
              ConsistentRead: true,
            },
          },
        }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const id = item.task_id?.S ?? '';
        status.set(id, item.status?.S ?? '?');
        if (item.status?.S === 'completed') completed.add(id);
        if (item.status?.S === 'failed') throw new Error(`task ${id} failed: ${JSON.stringify(item.error)}`);
      }
      if (ids.some((id) => !completed.has(id))) return;
    }
  };

  let reported = started;
  let progressed = { at: started, completed: 0 };
  while (submitting || completed.size < count) {
    await sleep(POLL_MS);
    if (submitError) throw submitError;
    await poll();
    const now = performance.now();
    if (completed.size > progressed.completed) progressed = { at: now, completed: completed.size };
    if (now - progressed.at > STALL_MS) {
      // Nothing moves on: with one FIFO group, a message stuck in flight holds up every later
      // task for the queue's visibility timeout (300 s), and the run would only measure that.
      const oldest = submitted.filter((id) => !completed.has(id)).slice(0, 3);
      throw new Error(
        `no task completed for ${STALL_MS / 1000} s (${completed.size}/${count} completed; ` +
          `oldest pending ${oldest.map((id) => `${id} ${status.get(id) ?? 'unread'}`).join(', ')}; ` +
          `${await diagnose()}; the stack's output: ${stack.logFile})`,
      );
    }
    if (now - reported > 10_000) {
      reported = now;
      options.log(`${GROUP}: ${submitted.length}/${count} accepted, ${completed.size} completed`);
    }
  }
  await submission;
  const seconds = (end: number) => (end - started) / 1000;
  return { total: count / seconds(performance.now()), accepted: count / seconds(acceptedAt) };
}

const totalCpu = (cpu: Record<string, number>) => Object.values(cpu).reduce((sum, ms) => sum + ms, 0);

function describeCpu(cpu: Record<string, number>): string {
  const parts = Object.entries(cpu).map(
    ([name, ms]) => `${name.replace('cpu ms per task: ', '')} ${ms.toFixed(1)}`,
  );
  return `CPU ms per task: ${parts.join(', ') || 'not available'}`;
}

/** One POST /tasks; the task id it accepted. */
async function postTask(stack: Stack, agent: Agent, body: string): Promise<string> {
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = httpRequest(
      `${stack.url}/tasks`,
      {
        method: 'POST',
        agent,
        headers: { ...CALLER, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
  if (status !== 202) throw new Error(`POST /tasks answered ${status}: ${text}`);
  return (JSON.parse(text) as { task_id: string }).task_id;
}

/** `count` tasks over HTTP, POST_CONCURRENCY at a time, as a client of the API would send them. */
function overHttp(stack: Stack, count: number): Submit {
  const { postBody } = taskSamples();
  return async (accepted) => {
    await withAgent((agent) =>
      mapLimit(count, POST_CONCURRENCY, async (index) =>
        accepted(await postTask(stack, agent, postBody(index))),
      ),
    );
  };
}

/**
 * node:http over kept-alive connections, one per concurrent POST, fresh for each phase (so none
 * the server closed while idle is reused). fetch (undici) cost the bench more CPU per request,
 * taken from the stack it measures on 2 cores.
 */
async function withAgent<T>(use: (agent: Agent) => Promise<T>): Promise<T> {
  const agent = new Agent({ keepAlive: true, maxSockets: POST_CONCURRENCY });
  try {
    return await use(agent);
  } finally {
    agent.destroy();
  }
}

/**
 * Starts every function instance the measured run uses before it starts: serverless-offline runs
 * one worker thread per concurrent request, each loading its handler on its first one. Concurrency
 * grows one at a time, so at most one instance loads while the others serve; a warm-up POST that
 * fails is sent again (nothing is measured yet).
 */
async function warmUp(stack: Stack, options: BenchOptions): Promise<void> {
  const { postBody } = taskSamples();
  await withAgent(async (agent) => {
    for (let concurrency = 1; concurrency <= POST_CONCURRENCY; concurrency++) {
      await Promise.all(
        Array.from({ length: concurrency }, async (_, index) => {
          for (let attempt = 1; ; attempt++) {
            try {
              return await postTask(stack, agent, postBody(index));
            } catch (error) {
              if (attempt >= WARM_UP_ATTEMPTS) throw error;
              options.log(`${GROUP}: warm-up POST failed (${(error as Error).message.slice(0, 80)}), again`);
            }
          }
        }),
      );
    }
  });
}

/**
 * The queue path alone: `count` queued task records written as createTask writes them (before the
 * clock starts), then their messages sent in batches of 10, as the raw loop sends, for
 * processTasks to complete.
 */
async function straightToQueue(
  sqs: SQSClient,
  dynamo: DynamoDBClient,
  table: string,
  queueUrl: string,
  groupId: string,
  count: number,
): Promise<Submit> {
  const { parsed } = taskSamples();
  const tasks = Array.from({ length: count }, () =>
    newTask(parsed, randomUUID(), new Date().toISOString(), 'bench'),
  );
  const documents = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  for (let start = 0; start < count; start += 25) {
    let items: Record<string, unknown[]> | undefined = {
      [table]: tasks.slice(start, start + 25).map((task) => ({ PutRequest: { Item: task } })),
    };
    while (items && Object.keys(items).length > 0) {
      const out = await documents.send(new BatchWriteCommand({ RequestItems: items as never }));
      items = out.UnprocessedItems as Record<string, unknown[]> | undefined;
    }
  }
  return async (accepted) => {
    for (let start = 0; start < count; start += 10) {
      const batch = tasks.slice(start, start + 10);
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((task, offset) => ({
            Id: String(offset),
            MessageBody: JSON.stringify(taskSubmittedMessage(task, 'bench')),
            MessageGroupId: groupId,
          })),
        }),
      );
      if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
      for (const task of batch) accepted(task.task_id);
    }
  };
}

/**
 * The emulator's own rate for the same messages: SendMessageBatch of 10 into a throwaway queue with
 * the tasks queue's attributes and the same message group, then ReceiveMessage (10) +
 * DeleteMessageBatch until every message is back. Messages per second over the whole loop.
 */
async function rawRate(sqs: SQSClient, sourceUrl: string, groupId: string, count: number): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ['All'] }),
  );
  const attributes = Object.fromEntries(
    Object.entries(Attributes).filter(([name]) => COPIED_ATTRIBUTES.includes(name)),
  );
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: `offload-bench-raw-${randomUUID()}.fifo`, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error('CreateQueue returned no URL');
  const { messageBody } = taskSamples();
  const bodies = Array.from({ length: count }, () => messageBody());
  try {
    const started = performance.now();
    for (let start = 0; start < count; start += 10) {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: bodies
            .slice(start, start + 10)
            .map((body, offset) => ({ Id: String(offset), MessageBody: body, MessageGroupId: groupId })),
        }),
      );
      if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    }
    let received = 0;
    const deadline = started + 600_000;
    while (received < count) {
      if (performance.now() > deadline) throw new Error(`only ${received}/${count} messages came back`);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) continue;
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: Messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle!,
          })),
        }),
      );
      received += Messages.length;
    }
    return count / ((performance.now() - started) / 1000);
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  }
}

/**
 * End-to-end task pipeline on the local stack (POST /tasks -> DynamoDB -> FIFO queue ->
 * processTasks -> completed) against the emulator's raw send+receive+delete rate for as many
 * messages, in the same emulator instance. The raw loop runs before and after the pipeline. Two
 * more rows split the pipeline: its ingest (POSTs answered 202, from the same run) and its queue
 * path alone (queued task records written first, then only their messages sent). Each row's JSON
 * details hold the CPU time per task of the emulators, the functions and the bench itself: on a
 * busy machine CPU, not waiting, sets every rate here.
 */
export async function run(options: BenchOptions): Promise<Row[]> {
  const count = options.quick ? 200 : 2000;
  const service = readService(SERVICE, path.join(ROOT, 'services', SERVICE));
  const groupId = String(param(service, STAGE, 'messageGroupId') ?? 'tasks');

  options.log(`${GROUP}: starting the local stack (${SERVICE}, stage ${STAGE})`);
  const stack = await startStack();
  const interrupted = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let succeeded = false;
  try {
    const client = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const sqs = new SQSClient({ ...client, endpoint: stack.endpoints.sqs, useQueueUrlAsEndpoint: false });
    const dynamo = new DynamoDBClient({ ...client, endpoint: stack.endpoints.dynamodb });

    const { TableNames = [] } = await dynamo.send(new ListTablesCommand({}));
    const table = TableNames.find((name) => name.endsWith(`-${STAGE}-tasks`));
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    const queueUrl = QueueUrls.find((url) => url.endsWith(`-${STAGE}-tasks.fifo`));
    if (!table || !queueUrl) throw new Error(`no tasks table or queue for stage ${STAGE}`);

    const diagnose = async () => {
      const depths = await Promise.all(
        QueueUrls.filter((url) => url.includes(`-${STAGE}-tasks`)).map(async (url) => {
          const { Attributes = {} } = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          const visible = Attributes.ApproximateNumberOfMessages;
          return `${url.split('/').pop()}: ${visible} visible, ${Attributes.ApproximateNumberOfMessagesNotVisible} in flight`;
        }),
      );
      return depths.join(', ');
    };

    options.log(`${GROUP}: warm-up`);
    await rawRate(sqs, queueUrl, groupId, 20);
    await warmUp(stack, options);
    await pipelineRate(stack, dynamo, table, 20, options, diagnose, overHttp(stack, 20));

    options.log(`${GROUP}: raw queue loop, ${count} messages`);
    const rawLoop = () => withCpu(stack, count, () => rawRate(sqs, queueUrl, groupId, count));
    const before = await rawLoop();
    options.log(`${GROUP}: raw loop ${describeCpu(before.cpu).replace('task', 'message')}`);
    options.log(`${GROUP}: pipeline, ${count} tasks over HTTP (${POST_CONCURRENCY} at a time)`);
    const http = await withCpu(stack, count, () =>
      pipelineRate(stack, dynamo, table, count, options, diagnose, overHttp(stack, count)),
    );
    options.log(`${GROUP}: ${describeCpu(http.cpu)}`);
    options.log(`${GROUP}: queue path, ${count} queued tasks sent to the queue`);
    const queued = await straightToQueue(sqs, dynamo, table, queueUrl, groupId, count);
    const drain = await withCpu(stack, count, () =>
      pipelineRate(stack, dynamo, table, count, options, diagnose, queued),
    );
    options.log(`${GROUP}: ${describeCpu(drain.cpu)}`);
    options.log(`${GROUP}: raw queue loop again`);
    const after = await rawLoop();
    const [rawBefore, rawAfter] = [before.result, after.result];

    const raw = median([rawBefore, rawAfter]);
    const baseline = {
      baseline: `raw FIFO send+receive+delete (group "${groupId}")`,
      baselineValue: raw,
      baselineUnit: 'msgs/s',
      baselineSamples: [rawBefore, rawAfter],
    };
    const row = (name: string, value: number, details: Record<string, number>): Row => ({
      group: GROUP,
      name,
      value,
      unit: 'tasks/s',
      ...baseline,
      ratio: value / raw,
      samples: [value],
      details,
    });
    succeeded = true;
    return [
      row(`POST /tasks -> completed, ${count} tasks`, http.result.total, http.cpu),
      row(`  of which POST /tasks -> 202 (ingest)`, http.result.accepted, http.cpu),
      row(`queued tasks sent to the queue -> completed (drain)`, drain.result.total, drain.cpu),
      // CPU, not waiting, bounds every rate above on a busy machine; CPU per item moved far less
      // with the machine's load than the rates did (which swung several-fold between runs).
      {
        ...rowFromSamples(
          {
            group: GROUP,
            name: `  CPU per task, POST /tasks -> completed`,
            unit: 'ms',
            baseline: 'raw loop, CPU per message (the same processes)',
          },
          [totalCpu(http.cpu)],
          [totalCpu(before.cpu), totalCpu(after.cpu)],
        ),
        details: http.cpu,
      },
    ];
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    options.log(`${GROUP}: stopping the local stack`);
    await stack.stop();
    if (succeeded) await rm(stack.logFile, { force: true });
    else options.log(`${GROUP}: the stack's output is in ${stack.logFile}`);
  }
}
