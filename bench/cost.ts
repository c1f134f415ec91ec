import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { spawnLocalStack, type ReadyLine, type StackChild } from '../tools/local-stack/child';
import { ROOT } from '../tools/local-stack/services';
import type { BenchOptions, Row } from './types';

// What each flow costs on AWS, counted at the emulators: every SQS, SNS and DynamoDB request the
// functions and the SQS event sources make passes through a counting proxy in front of fauxqs and
// dynalite (the stack runs with `--endpoint` pointing at it), and every Lambda invocation is
// counted where it starts (an HTTP call, a Lambda Invoke, or an SQS batch the event source hands
// to a function). DynamoDB request units are the emulator's own ConsumedCapacity: the proxy adds
// ReturnConsumedCapacity=TOTAL to each request.

const GROUP = 'cost';
// The stage `npm start` runs: API keys and the topic ARN resolve locally, and timeouts are the
// deployed ones (the `test` stage's 3 s ones time out on a busy machine).
const STAGE = 'local';

/** us-east-1 list prices, USD per million (2026): requests, or request units for DynamoDB. */
const PRICE_PER_MILLION: Record<string, number> = {
  'SQS standard': 0.4,
  'SQS FIFO': 0.5,
  SNS: 0.5,
  'DynamoDB write units': 0.625,
  'DynamoDB read units': 0.125,
  Lambda: 0.2,
};

/** Queries and scans are read in pages: their units come from ConsumedCapacity like the rest. */
const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const DYNAMODB_UNITS = new Set([
  ...DYNAMODB_READS,
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
const SNS_ACTIONS = new Set(['Publish', 'PublishBatch', 'CreateTopic', 'Subscribe', 'ListTopics']);

/** Requests and units seen, by `<price key>: <action>`; see `priceKey`. */
type Counts = Map<string, number>;

function add(counts: Counts, key: string, amount = 1) {
  counts.set(key, (counts.get(key) ?? 0) + amount);
}

function priceKey(key: string): string {
  return key.slice(0, key.indexOf(':'));
}

/**
 * fauxqs and dynalite in a plain `node` child: the bench runs under tsx with the `import`
 * condition, under which fauxqs's dependencies resolve to sources they cannot load.
 */
async function startEmulators() {
  const script = `
    import { buildApp } from 'fauxqs';
    import dynalite from 'dynalite';
    const sqs = buildApp({ logger: false });
    await sqs.listen({ port: 0, host: '127.0.0.1' });
    const dynamodb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise((resolve) => dynamodb.listen(0, '127.0.0.1', resolve));
    console.log(JSON.stringify({ sqs: sqs.server.address().port, dynamodb: dynamodb.address().port }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const ports = JSON.parse(chunk.toString()) as { sqs: number; dynamodb: number };
  return {
    endpoints: { sqs: `http://127.0.0.1:${ports.sqs}`, dynamodb: `http://127.0.0.1:${ports.dynamodb}` },
    async stop() {
      child.kill();
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

type Emulators = Awaited<ReturnType<typeof startEmulators>>;

/** Every request to the emulators, routed to the right one and counted. */
async function countingProxy(emulators: Emulators) {
  const counts: Counts = new Map();
  const sqs = new URL(emulators.endpoints.sqs);
  const dynamodb = new URL(emulators.endpoints.dynamodb);

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      const target = String(request.headers['x-amz-target'] ?? '');
      let upstream = sqs;
      let count: (answer: Buffer) => void = () => undefined;

      if (target.startsWith('DynamoDB_')) {
        upstream = dynamodb;
        const action = target.slice(target.indexOf('.') + 1);
        if (DYNAMODB_UNITS.has(action)) {
          // The emulator's capacity accounting; the SDK ignores the extra response field.
          const json = JSON.parse(body.toString() || '{}') as Record<string, unknown>;
          body = Buffer.from(JSON.stringify({ ...json, ReturnConsumedCapacity: 'TOTAL' }));
          const kind = DYNAMODB_READS.has(action) ? 'DynamoDB read units' : 'DynamoDB write units';
          count = (answer) => {
            const consumed = (JSON.parse(answer.toString() || '{}') as { ConsumedCapacity?: unknown })
              .ConsumedCapacity;
            const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as {
              CapacityUnits?: number;
            }[];
            add(
              counts,
              `${kind}: ${action}`,
              list.reduce((sum, { CapacityUnits = 0 }) => sum + CapacityUnits, 0),
            );
          };
        } else {
          add(counts, `DynamoDB requests (no units): ${action}`);
        }
      } else {
        // SDK v3 speaks SQS's JSON protocol; the event sources (SDK v2) and SNS the query protocol.
        let action: string;
        let queueUrl = '';
        if (target.startsWith('AmazonSQS.')) {
          action = target.slice('AmazonSQS.'.length);
          const json = JSON.parse(body.toString() || '{}') as { QueueUrl?: string; QueueName?: string };
          queueUrl = String(json.QueueUrl ?? json.QueueName ?? '');
        } else {
          const form = new URLSearchParams(body.toString());
          action = form.get('Action') ?? 'unknown';
          queueUrl = form.get('QueueUrl') ?? form.get('QueueName') ?? '';
        }
        const service = SNS_ACTIONS.has(action)
          ? 'SNS'
          : queueUrl.endsWith('.fifo')
            ? 'SQS FIFO'
            : 'SQS standard';
        if (action === 'ReceiveMessage') {
          // An empty receive is idle polling: it costs per queue and hour, not per flow.
          count = (answer) => {
            const text = answer.toString();
            const received = text.startsWith('{')
              ? ((JSON.parse(text) as { Messages?: unknown[] }).Messages?.length ?? 0)
              : (text.match(/<Message>/g) ?? []).length;
            add(
              counts,
              received > 0 ? `${service}: ReceiveMessage` : `idle: ${service} empty ReceiveMessage`,
            );
          };
        } else if (
          action === 'DeleteMessageBatch' &&
          /aws-sdk-nodejs\/2\./.test(String(request.headers['user-agent']))
        ) {
          // The event source (SDK v2) deletes what an invocation processed: one batch per
          // invocation. The functions themselves never delete.
          add(counts, `${service}: ${action}`);
          add(counts, 'Lambda: invocation by an SQS event source');
        } else {
          add(counts, `${service}: ${action}`);
        }
      }

      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, 'content-length': String(body.length) },
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const whole = Buffer.concat(parts);
            try {
              count(whole);
            } catch {
              // A response the counter cannot read still goes back unchanged.
            }
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            response.end(whole);
          });
        },
      );
      forward.on('error', (error) => {
        response.writeHead(502);
        response.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    counts,
    snapshot: () => new Map(counts),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${GROUP}: timed out waiting for ${what}`);
    await sleep(500);
  }
}

async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  if (response.status >= 300)
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text || '{}') as Record<string, unknown>;
}

/** POSTs one body per item (made by `init`) to `url` and returns each answer's `idField`. */
async function postEach(
  url: string,
  items: number,
  idField: string,
  init: (index: number) => { body: unknown; headers?: Record<string, string> },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < items; i++)
    ids.push(String((await call(url, { method: 'POST', ...init(i) }))[idField]));
  return ids;
}

/** What a flow's driver gets: the stack, a status reader that bypasses the proxy, a counter. */
interface Run {
  ready: ReadyLine;
  items: number;
  /** Counts Lambda invocations the bench itself starts (HTTP calls, Lambda Invoke). */
  invoked(count: number): void;
  /** A string attribute of an item, read straight from the emulator (uncounted). */
  read(table: string, key: Record<string, string>, attribute: string): Promise<string | undefined>;
  /** A string attribute of every item under an index key, read straight from the emulator. */
  query(table: string, index: string, key: Record<string, string>, attribute: string): Promise<string[]>;
}

/** One flow: `setup` is not counted, `run` is, and `items` is what the counts are divided by. */
interface Flow {
  name: string;
  /** Items per run (a quick run takes a fifth): jobs stay under the API's 60 a minute per caller. */
  items: number;
  /** The fewest requests (units for DynamoDB) per item the flow's guarantees need: key, number, why. */
  floor: [key: string, perItem: number, why: string][];
  setup?(run: Run): Promise<void>;
  run(run: Run): Promise<void>;
}

const ALICE = { 'x-api-key': 'dev-key-alice' };
/** The development operator key: the scheduler and checker routes take only an operator's. */
const OLGA = { 'x-api-key': 'dev-key-olga' };

/** Ids made by setup for run, per flow. */
const made = new Map<string, string[]>();

const FLOWS: Flow[] = [
  {
    name: 'task: POST /tasks -> completed',
    items: 50,
    floor: [
      ['Lambda', 1.1, 'createTask, plus processTasks per batch of 10'],
      ['SQS FIFO', 1.2, 'send; receive and delete per batch of 10'],
      ['DynamoDB write units', 2, 'create the task, write its result'],
    ],
    async run({ ready, items, invoked, read }) {
      const ids = await postEach(`${ready.urls['task-api']!}/tasks`, items, 'task_id', (i) => ({
        body: { title: `Cost ${i}`, description: 'Counted', priority: 'High' },
        headers: ALICE,
      }));
      invoked(items);
      const table = `offload-task-api-${STAGE}-tasks`;
      for (const id of ids)
        await until(`task ${id}`, async () => (await read(table, { task_id: id }, 'status')) === 'completed');
    },
  },
  {
    name: 'job: POST /jobs -> succeeded',
    items: 20,
    floor: [
      ['Lambda', 1.2, 'createJob, plus processJobs and recordResults per batch of 10'],
      ['SNS', 3, 'publish the request; a live-update event when it starts and when it ends'],
      ['SQS standard', 1.4, 'send the result; receive and delete per batch of 10, twice'],
      [
        'DynamoDB write units',
        6,
        'claim the Idempotency-Key, take a rate token, charge the LLM budget, create the job, ' +
          'claim it before its LLM call (a standard queue may deliver it twice), write its result',
      ],
    ],
    async run({ ready, items, invoked, read }) {
      const ids = await postEach(`${ready.urls['ai-jobs']!}/jobs`, items, 'job_id', (i) => ({
        headers: { ...ALICE, 'idempotency-key': randomUUID() },
        body: { type: 'completion', config: { prompt: `Say hello ${i}` } },
      }));
      invoked(items);
      const table = `offload-ai-jobs-${STAGE}-jobs`;
      for (const id of ids)
        await until(`job ${id}`, async () => {
          const status = await read(table, { job_id: id }, 'status');
          if (status === 'failed') throw new Error(`job ${id} failed`);
          return status === 'succeeded';
        });
    },
  },
  {
    name: 'podcast: schedule -> episode processed',
    items: 20,
    floor: [
      ['Lambda', 0.2, 'generatePodcasts and processEpisodes per batch of 10'],
      ['SQS standard', 0.6, 'send, receive and delete per batch of 10, on two queues'],
      ['DynamoDB write units', 3, 'create the episode, advance the podcast, mark it processed'],
    ],
    async setup({ ready, items }) {
      const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
      const ids = await postEach(`${ready.urls['podcast-workers']!}/podcasts`, items, 'podcast_id', () => ({
        body: { title: `Cost show ${randomUUID().slice(0, 8)}`, frequency: 7, latest_episode_date: weekAgo },
        headers: ALICE,
      }));
      made.set('podcast', ids);
    },
    async run({ ready, invoked, read, query }) {
      const url = ready.urls['podcast-workers']!;
      const ids = made.get('podcast')!;
      await call(`${url}/podcasts/schedule`, { method: 'POST', headers: OLGA });
      invoked(1);
      const today = new Date().toISOString().slice(0, 10);
      const podcasts = `offload-podcast-workers-${STAGE}-podcasts`;
      const episodes = `offload-podcast-workers-${STAGE}-episodes`;
      for (const id of ids)
        await until(
          `the episode of podcast ${id}`,
          async () => (await read(podcasts, { podcastId: id }, 'latestEpisodeDate')) === today,
        );
      // The episode checker sends every pending episode to the episode queue.
      await call(`${url}/episodes/check`, { method: 'POST', headers: OLGA });
      invoked(1);
      for (const id of ids)
        await until(`the processed episode of podcast ${id}`, async () => {
          const statuses = await query(episodes, 'byPodcast', { podcastId: id }, 'status');
          return statuses.length > 0 && statuses.every((status) => status === 'processed');
        });
    },
  },
  {
    name: 'batch item: submit -> resolved',
    items: 50,
    floor: [
      [
        'DynamoDB write units',
        4,
        'create the item, claim it before it is submitted (so a crash never submits it twice), ' +
          'record its provider batch, write its outcome',
      ],
      ['DynamoDB read units', 0.25, 'read the open items in pages (eventually consistent)'],
      ['SNS', 1, 'a live-update event when it ends'],
    ],
    async run({ ready, items, invoked, read }) {
      const url = ready.urls['batch-poller']!;
      const job = await call(`${url}/batch-jobs`, {
        method: 'POST',
        headers: ALICE,
        body: { items: Array.from({ length: items }, (_, i) => ({ input: `cost item ${i}` })) },
      });
      invoked(1);
      const poller = `offload-batch-poller-${STAGE}-pollBatches`;
      await until(`batch job ${String(job.job_id)}`, async () => {
        await call(`${ready.lambdaUrls['batch-poller']}/2015-03-31/functions/${poller}/invocations`, {
          method: 'POST',
          body: {},
        });
        invoked(1);
        const status = await read(
          `offload-batch-poller-${STAGE}-jobs`,
          { job_id: String(job.job_id) },
          'status',
        );
        return status === 'completed' || status === 'failed';
      });
    },
  },
];

function perItem(before: Counts, after: Counts, items: number): Counts {
  const delta: Counts = new Map();
  for (const [key, value] of after) {
    const change = value - (before.get(key) ?? 0);
    if (change > 0) delta.set(key, change / items);
  }
  return delta;
}

/** USD per million flows. */
function costPerMillion(units: Counts): number {
  let usd = 0;
  for (const [key, value] of units) usd += value * (PRICE_PER_MILLION[priceKey(key)] ?? 0);
  return usd;
}

/**
 * For each flow, the AWS requests per item by service and action, and the list-price cost of a
 * million such flows, beside the floor: the fewest requests the flow's guarantees need. Reads
 * the bench does to see a flow finish go straight to the emulators, uncounted; GET calls through
 * the API are counted neither (they are not part of the flow).
 */
export async function run(options: BenchOptions): Promise<Row[]> {
  const httpBase = Number(process.env.BENCH_HTTP_PORT ?? 15000) + 300;
  const emulators = await startEmulators();
  const proxy = await countingProxy(emulators);
  const logFile = path.join(tmpdir(), `offload-bench-cost-${Date.now()}.log`);
  const log = createWriteStream(logFile);
  let stack: StackChild | undefined;
  let succeeded = false;
  try {
    options.log(
      `${GROUP}: starting the local stack (every service, stage ${STAGE}) behind the counting proxy`,
    );
    const args = [
      '--stage',
      STAGE,
      '--endpoint',
      proxy.url,
      '--http-port',
      String(httpBase),
      '--openai-port',
      '0',
    ];
    stack = await spawnLocalStack(args, log);
    const dynamo = new DynamoDBClient({
      endpoint: emulators.endpoints.dynamodb,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const toKey = (key: Record<string, string>) =>
      Object.fromEntries(Object.entries(key).map(([name, value]) => [name, { S: value }]));
    const rows: Row[] = [];
    const failures: string[] = [];
    for (const flow of FLOWS) {
      const items = options.quick ? Math.ceil(flow.items / 5) : flow.items;
      options.log(`${GROUP}: ${flow.name}, ${items} items`);
      try {
        let invocations = 0;
        const context: Run = {
          ready: stack.ready,
          items,
          invoked: (count) => (invocations += count),
          async read(table, key, attribute) {
            const { Item } = await dynamo.send(
              new GetItemCommand({ TableName: table, Key: toKey(key), ConsistentRead: true }),
            );
            return Item?.[attribute]?.S;
          },
          async query(table, index, key, attribute) {
            const [[name, value]] = Object.entries(key) as [[string, string]];
            const { Items = [] } = await dynamo.send(
              new QueryCommand({
                TableName: table,
                IndexName: index,
                KeyConditionExpression: '#k = :v',
                ExpressionAttributeNames: { '#k': name },
                ExpressionAttributeValues: { ':v': { S: value } },
              }),
            );
            return Items.map((item) => item[attribute]?.S ?? '');
          },
        };
        await flow.setup?.(context);
        // Let event sources settle, so only this flow's requests fall in its window.
        await sleep(1500);
        const before = proxy.snapshot();
        invocations = 0;
        await flow.run(context);
        await sleep(1500);
        const counted = perItem(before, proxy.snapshot(), items);
        counted.set('Lambda: invocation by the bench (HTTP, Invoke)', invocations / items);
        for (const key of [...counted.keys()]) if (key.startsWith('idle:')) counted.delete(key);

        const floor: Counts = new Map(flow.floor.map(([key, n]) => [`${key}: floor`, n]));
        const byService = (units: Counts) => {
          const sums = new Map<string, number>();
          for (const [key, value] of units) add(sums, priceKey(key), value);
          return sums;
        };
        const services = byService(counted);
        for (const [key, value] of [...counted].sort())
          options.log(`${GROUP}:   ${key} ${value.toFixed(2)} per item`);
        for (const [key, n, why] of flow.floor)
          options.log(
            `${GROUP}:   floor ${key} ${n} per item (${why}); counted ${(services.get(key) ?? 0).toFixed(2)}`,
          );

        const requests = [...counted.values()].reduce((sum, value) => sum + value, 0);
        const floorRequests = flow.floor.reduce((sum, [, n]) => sum + n, 0);
        const usd = costPerMillion(counted);
        const floorUsd = costPerMillion(floor);
        rows.push(
          {
            group: GROUP,
            name: `${flow.name}: requests+units per item`,
            value: requests,
            unit: 'req',
            baseline: 'floor',
            baselineValue: floorRequests,
            ratio: requests / floorRequests,
            details: Object.fromEntries(counted),
          },
          {
            group: GROUP,
            name: `${flow.name}: USD per million`,
            value: usd,
            unit: 'USD',
            baseline: 'floor',
            baselineValue: floorUsd,
            ratio: usd / floorUsd,
            details: Object.fromEntries(flow.floor.map(([key, n, why]) => [`${key} (${why})`, n])),
          },
        );
      } catch (error) {
        // One flow that does not finish leaves the others' rows.
        failures.push(`${flow.name}: ${(error as Error).message}`);
        options.log(`${GROUP}: ${flow.name} failed: ${(error as Error).message}`);
      }
    }
    if (failures.length === FLOWS.length) throw new Error(failures.join('; '));
    succeeded = failures.length === 0;
    return rows;
  } finally {
    options.log(`${GROUP}: stopping the local stack`);
    await stack?.stop();
    log.end();
    await proxy.close();
    await emulators.stop();
    if (succeeded) await rm(logFile, { force: true });
    else options.log(`${GROUP}: the stack's output is in ${logFile}`);
  }
}
