import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  waitUntilTableNotExists,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { drainQueue, queueDepth, stubControl, waitFor } from '@offload/testing';

// Names follow the services' serverless.yml at the `test` stage the harness starts.
const CONNECTIONS_TABLE = 'offload-live-updates-test-connections';
const NOTIFIER_DLQ = 'offload-live-updates-test-notifier-dlq';
const ALICE = 'dev-key-alice';
const CAROL = 'dev-key-carol';

type Message = Record<string, unknown> & { type: string };

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup did not run`);
  return value;
};
const wsUrl = () => env('LIVE_UPDATES_WS_URL');

/** An open socket and every message it received, parsed. */
interface Client {
  socket: WebSocket;
  messages: Message[];
  next(what: string, match: (m: Message) => boolean, timeoutMs?: number): Promise<Message>;
  close(): void;
}

async function connect(key: string): Promise<Client> {
  const socket = new WebSocket(`${wsUrl()}?key=${encodeURIComponent(key)}`);
  const messages: Message[] = [];
  socket.addEventListener('message', (event) => messages.push(JSON.parse(String(event.data)) as Message));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('the WebSocket did not open')), { once: true });
  });
  return {
    socket,
    messages,
    next: (what, match, timeoutMs = 30_000) =>
      waitFor(what, async () => messages.find(match), { timeoutMs, intervalMs: 20 }),
    close: () => socket.close(),
  };
}

/** The HTTP status of a WebSocket handshake (101 when accepted), which the browser API hides. */
function handshakeStatus(query: string): Promise<number> {
  const url = new URL(`${wsUrl()}${query}`.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function postJob(body: unknown, key = ALICE): Promise<string> {
  const res = await fetch(`${env('AI_JOBS_URL')}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { job_id: string }).job_id;
}

async function getJob(id: string, key = ALICE) {
  const res = await fetch(`${env('AI_JOBS_URL')}/jobs/${id}`, { headers: { 'x-api-key': key } });
  return (await res.json()) as { status: string; progress: number };
}

const isJob = (id: string, status?: string) => (m: Message) =>
  m.type === 'job.updated' && m.job_id === id && (status === undefined || m.status === status);

describe('live updates over a real WebSocket with the local stack', () => {
  const open: Client[] = [];
  const client = async (key: string) => {
    const c = await connect(key);
    open.push(c);
    return c;
  };

  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await stubControl('/_stub/config', 'POST', { latencyMs: 20 });
  });

  it('refuses a missing or unknown key at $connect with 401 and accepts a known one', async () => {
    expect(await handshakeStatus('')).toBe(401);
    expect(await handshakeStatus('?key=not-a-key')).toBe(401);
    expect(await handshakeStatus(`?key=${ALICE}`)).toBe(101);
  });

  it('sends the current state at once, then at least two distinct progress values and the final succeeded', async () => {
    // Five LLM steps of 300 ms: inside the test stage's 5 s processor timeout, and long enough that
    // the subscription, sent on an open socket right after the POST, sees several of them.
    await stubControl('/_stub/config', 'POST', { latencyMs: 300 });
    const alice = await client(ALICE);
    const id = await postJob({
      type: 'discussion',
      config: { topic: `live-${randomUUID()}`, agents: 2, rounds: 2 },
    });
    alice.socket.send(JSON.stringify({ action: 'subscribe', job_id: id }));
    const first = await alice.next('the current state', isJob(id));
    expect(first).toMatchObject({ job_id: id, status: expect.any(String), progress: expect.any(Number) });
    expect(first).not.toHaveProperty('owner');
    await alice.next('the final state', isJob(id, 'succeeded'));
    const progress = alice.messages.filter(isJob(id)).map((m) => m.progress as number);
    expect(new Set(progress.filter((p) => p > 0 && p < 1)).size).toBeGreaterThanOrEqual(2);
    expect(alice.messages.filter(isJob(id)).at(-1)).toMatchObject({ status: 'succeeded', progress: 1 });
  });

  it('answers another caller’s job as not_found and never sends them its updates', async () => {
    await stubControl('/_stub/config', 'POST', { latencyMs: 100 });
    const id = await postJob({
      type: 'discussion',
      config: { topic: `private-${randomUUID()}`, agents: 2, rounds: 1 },
    });
    const carol = await client(CAROL);
    carol.socket.send(JSON.stringify({ action: 'subscribe', job_id: id }));
    expect(await carol.next('an error', (m) => m.type === 'error')).toMatchObject({
      type: 'error',
      code: 'not_found',
      job_id: id,
    });
    const alice = await client(ALICE);
    alice.socket.send(JSON.stringify({ action: 'subscribe', job_id: id }));
    await alice.next('the final state', isJob(id, 'succeeded'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(carol.messages.filter((m) => m.type === 'job.updated')).toEqual([]);
  });

  it('answers a malformed request with bad_request', async () => {
    const alice = await client(ALICE);
    alice.socket.send(JSON.stringify({ action: 'subscribe', job_id: 'nope' }));
    alice.socket.send('not json');
    await waitFor(
      'two errors',
      async () => alice.messages.filter((m) => m.code === 'bad_request').length === 2,
    );
  });

  it('delivers the final cancelled state of a job cancelled while it runs', async () => {
    await stubControl('/_stub/config', 'POST', { latencyMs: 250 });
    const id = await postJob({
      type: 'panel',
      config: { topic: `stop-${randomUUID()}`, agents: 3, rounds: 3 },
    });
    const alice = await client(ALICE);
    alice.socket.send(JSON.stringify({ action: 'subscribe', job_id: id }));
    await alice.next('progress', (m) => isJob(id)(m) && (m.progress as number) > 0);
    const res = await fetch(`${env('AI_JOBS_URL')}/jobs/${id}`, {
      method: 'DELETE',
      headers: { 'x-api-key': ALICE },
    });
    expect(res.status).toBe(202);
    await alice.next('the cancel request', (m) => isJob(id)(m) && m.cancel_requested === true);
    expect(await alice.next('the final state', isJob(id, 'cancelled'))).toMatchObject({
      cancel_requested: true,
    });
  });

  it('leaves a job’s outcome alone when the notifier fails on every event', async () => {
    const dynamodb = new DynamoDBClient({});
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: CONNECTIONS_TABLE }));
    // Without its table the notifier throws on every record; the events go to its DLQ.
    await dynamodb.send(new DeleteTableCommand({ TableName: CONNECTIONS_TABLE }));
    await waitUntilTableNotExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: CONNECTIONS_TABLE });
    try {
      await drainQueue(NOTIFIER_DLQ);
      const id = await postJob({
        type: 'discussion',
        config: { topic: `unheard-${randomUUID()}`, agents: 2, rounds: 1 },
      });
      const job = await waitFor('the job to end', async () => {
        const j = await getJob(id);
        return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
      });
      expect(job).toMatchObject({ status: 'succeeded', progress: 1 });
      await waitFor('its events in the notifier DLQ', async () => (await queueDepth(NOTIFIER_DLQ)) > 0, {
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      expect((await getJob(id)).status).toBe('succeeded');
    } finally {
      const input: CreateTableCommandInput = {
        TableName: CONNECTIONS_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: Table!.AttributeDefinitions,
        KeySchema: Table!.KeySchema,
        GlobalSecondaryIndexes: Table!.GlobalSecondaryIndexes!.map((index) => ({
          IndexName: index.IndexName,
          KeySchema: index.KeySchema,
          Projection: index.Projection,
        })),
      };
      await dynamodb.send(new CreateTableCommand(input));
      await drainQueue(NOTIFIER_DLQ);
    }
  });
});
