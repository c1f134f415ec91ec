import { randomUUID } from 'node:crypto';
import { BatchGetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '@offload/aws/dynamodb';
import { drainQueue, invokeFunction, stubControl, waitFor, type ReceivedMessage } from '@offload/testing';

// Names follow services/ai-jobs/serverless.yml at the `test` stage the harness starts.
const JOBS_TABLE = 'offload-ai-jobs-test-jobs';
const REQUEST_DLQ = 'offload-ai-jobs-test-requests-dlq';
const ALICE = 'dev-key-alice'; // free tier: normal queue
const BOB = 'dev-key-bob'; // paid tier: priority queue

interface JobView {
  job_id: string;
  type: string;
  status: string;
  progress: number;
  result?: unknown;
  error?: { code: string; message: string };
  created_at: string;
  updated_at: string;
  completed_at?: string;
}

const api = () => {
  const url = process.env.AI_JOBS_URL;
  if (!url) throw new Error('AI_JOBS_URL is not set: the integration globalSetup did not run');
  return url;
};

async function post(body: unknown, key = ALICE, headers: Record<string, string> = {}) {
  const res = await fetch(`${api()}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function get(id: string, key = ALICE) {
  const res = await fetch(`${api()}/jobs/${id}`, { headers: { 'x-api-key': key } });
  return { status: res.status, headers: res.headers, json: (await res.json()) as JobView };
}

async function submit(body: unknown, key = ALICE): Promise<string> {
  const res = await post(body, key);
  expect(res.status).toBe(202);
  return res.json.job_id as string;
}

/** Polls GET until the job is terminal, keeping every progress value it saw. */
async function watch(id: string, key = ALICE, intervalMs = 25) {
  const progress: number[] = [];
  const job = await waitFor(
    `job ${id} to finish`,
    async () => {
      const { json } = await get(id, key);
      progress.push(json.progress);
      return json.status === 'succeeded' || json.status === 'failed' ? json : undefined;
    },
    { intervalMs },
  );
  return { job, progress };
}

async function jobCount(): Promise<number> {
  const out = await dynamo.send(
    new ScanCommand({ TableName: JOBS_TABLE, Select: 'COUNT', ConsistentRead: true }),
  );
  return out.Count ?? 0;
}

const deadLetters: ReceivedMessage[] = [];
const multiAgent = (topic: string, agents = 2, rounds = 2) => ({ topic, agents, rounds });

describe('ai-jobs over HTTP with the local emulators and the OpenAI stand-in', () => {
  afterEach(async () => {
    await stubControl('/_stub/faults', 'DELETE');
    await stubControl('/_stub/config', 'POST', { latencyMs: 20 });
  });

  it.each([
    ['simulation', { type: 'simulation', config: multiAgent('A city of robots', 3, 2) }],
    ['panel', { type: 'panel', config: multiAgent('Are four-day weeks better?', 2, 3) }],
    ['discussion', { type: 'discussion', config: multiAgent('Tabs or spaces', 2, 2) }],
    ['completion', { type: 'completion', config: { prompt: 'Say hello in French' } }],
  ])('runs a %s job to succeeded with progress that only rises', async (type, body) => {
    await stubControl('/_stub/config', 'POST', { latencyMs: 60 });
    const id = await submit(body);
    const { job, progress } = await watch(id);

    expect(job).toMatchObject({ job_id: id, type, status: 'succeeded', progress: 1 });
    expect(job.result).toBeDefined();
    expect(Date.parse(job.completed_at!)).toBeGreaterThanOrEqual(Date.parse(job.created_at));
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);
    if (type !== 'completion') {
      expect(progress.some((p) => p > 0 && p < 1)).toBe(true);
      const { transcript } = job.result as { transcript: unknown[] };
      const { agents, rounds } = body.config as { agents: number; rounds: number };
      expect(transcript).toHaveLength(agents * rounds);
    }
  });

  it('answers Retry-After while a job runs and none once it has finished', async () => {
    await stubControl('/_stub/config', 'POST', { latencyMs: 300 });
    const id = await submit({ type: 'completion', config: { prompt: 'slow one' } });
    expect((await get(id)).headers.get('retry-after')).toBe('2');
    await watch(id);
    expect((await get(id)).headers.get('retry-after')).toBeNull();
  });

  it('ends succeeded when the LLM fails twice and then answers', async () => {
    const topic = `flaky-${randomUUID()}`;
    await stubControl('/_stub/faults', 'POST', { match: topic, times: 2, status: 500 });
    const id = await submit({ type: 'completion', config: { prompt: topic } });
    const { job } = await watch(id, ALICE, 200);
    expect(job.status).toBe('succeeded');
    expect(job.error).toBeUndefined();
  });

  it('ends failed with the error when the LLM always fails, and dead-letters the request with its reason', async () => {
    const topic = `broken-${randomUUID()}`;
    await stubControl('/_stub/faults', 'POST', { match: topic, times: 'always', status: 500 });
    const id = await submit({ type: 'discussion', config: multiAgent(topic) });
    const { job } = await watch(id, ALICE, 200);
    expect(job.status).toBe('failed');
    // The client sees a public code; the provider's error stays in the logs and the DLQ reason.
    expect(job.error).toEqual({ code: 'llm_failed', message: expect.any(String) });
    expect(JSON.stringify(job.error)).not.toMatch(/500|Injected/);

    const dead = await waitFor('the request in the DLQ', async () => {
      deadLetters.push(...(await drainQueue(REQUEST_DLQ)));
      return deadLetters.find((m) => m.body.includes(id));
    });
    expect(dead.attributes).toMatchObject({ failure_kind: 'exhausted', receive_count: '5' });
    expect(dead.attributes.failure_reason).toMatch(/500/);
  });

  it('ends failed with the reason, not stuck processing, when the LLM outlasts the processor every time', async () => {
    // The test stage gives the processor 5 s; every answer takes 6 s.
    await stubControl('/_stub/config', 'POST', { latencyMs: 6000 });
    const id = await submit({ type: 'completion', config: { prompt: `slow ${randomUUID()}` } });
    const { job } = await watch(id, ALICE, 500);
    expect(job.status).toBe('failed');
    expect(job.error).toEqual({
      code: 'job_timeout',
      message: expect.stringMatching(/The job did not finish within its \d+ ms budget/),
    });

    const dead = await waitFor('the request in the DLQ', async () => {
      deadLetters.push(...(await drainQueue(REQUEST_DLQ)));
      return deadLetters.find((m) => m.body.includes(id));
    });
    expect(dead.attributes).toMatchObject({ failure_kind: 'exhausted', receive_count: '5' });
    expect(dead.attributes.failure_reason).toMatch(/JobDeadlineError/);
  });

  it('fails a job left processing by a processor that died on every attempt, and only that job', async () => {
    // What a crashed processor leaves behind: `processing`, nothing written for hours. The test
    // stage sweeps jobs untouched for 60 s.
    const stuck = (minutesAgo: number) => {
      const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
      return {
        job_id: randomUUID(),
        owner: 'alice',
        type: 'completion',
        config: { prompt: 'crashed' },
        priority: 'normal',
        status: 'processing',
        open_status: 'processing',
        progress: 0.5,
        attempts: 3,
        created_at: at,
        updated_at: at,
        started_at: at,
      };
    };
    const dead = stuck(240);
    const running = stuck(0);
    for (const Item of [dead, running]) await dynamo.send(new PutCommand({ TableName: JOBS_TABLE, Item }));

    const lambdaUrl = process.env.AI_JOBS_LAMBDA_URL!;
    const report = await invokeFunction<{ found: number; failed: number }>(
      lambdaUrl,
      'offload-ai-jobs-test-sweepStaleJobs',
    );
    expect(report.failed).toBeGreaterThanOrEqual(1);
    const swept = (await get(dead.job_id)).json;
    expect(swept).toMatchObject({
      status: 'failed',
      error: { code: 'job_stalled', message: expect.stringMatching(/stopped without a result/) },
    });
    expect(swept.completed_at).toBeDefined();
    expect((await get(running.job_id)).json.status).toBe('processing');
  });

  it('finishes a paid caller’s job submitted behind 50 normal ones before most of them', async () => {
    // Each normal job makes 4 calls of 400 ms, so one batch of 10 outlasts the whole submission
    // and the backlog exists before the paid job arrives, however slow the machine is. POSTs go
    // 5 at a time: serverless-offline starts a fresh worker (a cold start) per concurrent call.
    await stubControl('/_stub/config', 'POST', { latencyMs: 400 });
    const normal: string[] = [];
    for (let i = 0; i < 50; i += 5) {
      const chunk = Array.from({ length: 5 }, (_, j) =>
        submit({ type: 'discussion', config: multiAgent(`queue ${i + j}`) }),
      );
      normal.push(...(await Promise.all(chunk)));
    }
    const priority = await submit({ type: 'discussion', config: multiAgent('paid user') }, BOB);

    const priorityDone = Date.parse((await watch(priority, BOB, 100)).job.completed_at!);
    // Read the 50 from the table rather than polling 50 GETs, which would load the one local
    // process that also runs the workers.
    const normalDone = await waitFor(
      'the 50 normal jobs to finish',
      async () => {
        const out = await dynamo.send(
          new BatchGetCommand({
            RequestItems: { [JOBS_TABLE]: { Keys: normal.map((job_id) => ({ job_id })) } },
          }),
        );
        const done = (out.Responses?.[JOBS_TABLE] ?? []).filter((j) => j.status === 'succeeded');
        return done.length === normal.length && done.map((j) => Date.parse(String(j.completed_at)));
      },
      { intervalMs: 500 },
    );
    const finishedAfter = normalDone.filter((t) => t > priorityDone).length;
    expect(finishedAfter).toBeGreaterThan(25);
  });

  it('returns the first job for a replayed Idempotency-Key and 422 for the same key with another body', async () => {
    const key = randomUUID();
    const body = { type: 'completion', config: { prompt: 'only once' } };
    const before = await jobCount();
    const first = await post(body, ALICE, { 'idempotency-key': key });
    const replay = await post(body, ALICE, { 'idempotency-key': key });

    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.json.job_id).toBe(first.json.job_id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await jobCount()).toBe(before + 1);

    const other = await post({ type: 'completion', config: { prompt: 'something else' } }, ALICE, {
      'idempotency-key': key,
    });
    expect(other.status).toBe(422);
    expect(await jobCount()).toBe(before + 1);
  });

  it('shows a job only to its owner and asks for a key', async () => {
    const id = await submit({ type: 'completion', config: { prompt: 'mine' } });
    expect((await get(id, 'dev-key-carol')).status).toBe(404);
    expect((await get(id, 'not-a-key')).status).toBe(401);
    expect((await get(id)).status).toBe(200);
    expect((await post({ type: 'completion', config: { prompt: 'x' } }, 'not-a-key')).status).toBe(401);
  });

  it('rejects invalid jobs with 400 naming the field and records nothing', async () => {
    const before = await jobCount();
    const cases: [unknown, string][] = [
      [{ type: 'simulation', config: multiAgent('t', 21, 1) }, 'config.agents'],
      [{ type: 'panel', config: multiAgent('t', 1, 11) }, 'config.rounds'],
      [{ type: 'discussion', config: multiAgent('', 1, 1) }, 'config.topic'],
      [{ type: 'discussion', config: multiAgent('x'.repeat(2001), 1, 1) }, 'config.topic'],
      [{ type: 'poem', config: {} }, 'type'],
      [{ type: 'completion', config: { prompt: 'x', temperature: 2 } }, 'config.temperature'],
    ];
    for (const [body, field] of cases) {
      const res = await post(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      const details = (res.json.error as { details: { field: string }[] }).details;
      expect(details.map((d) => d.field)).toContain(field);
    }
    expect(await jobCount()).toBe(before);
  });
});
