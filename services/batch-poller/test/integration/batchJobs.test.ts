import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '@offload/aws/dynamodb';
import { invokeFunction, stubControl, waitFor } from '@offload/testing';
import type { PollStats } from '../../src/domain/poller';

// Names follow services/batch-poller/serverless.yml at the `test` stage the harness starts; that
// stage disables the schedule so each test starts the poller runs it counts.
const POLLER = 'offload-batch-poller-test-pollBatches';
const JOBS_TABLE = 'offload-batch-poller-test-jobs';
// Bob is on the paid tier, whose test-stage item budget the heavy tests cannot exhaust; Carol is
// on the free tier, whose test-stage budget is 40 items.
const BOB = 'dev-key-bob';
const CAROL = 'dev-key-carol';

interface JobView {
  job_id: string;
  status: string;
  total_items: number;
  submitted_items: number;
  processed_items: number;
  succeeded_items: number;
  failed_items: number;
  completed_at?: string;
}
interface ItemView {
  item_id: string;
  status: string;
  provider_task_id?: string;
  result?: string;
  error?: { code: string; message: string };
}
/** The poller's statistics line, as its invocation answers it. */
type RunStats = PollStats & { passes: number; backoffs: number; unreadable: number; durationMs: number };

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup did not run`);
  return value;
};
const api = () => env('BATCH_POLLER_URL');
const poll = () => invokeFunction<RunStats>(env('BATCH_POLLER_LAMBDA_URL'), POLLER);

async function request(
  path: string,
  init: { method?: string; body?: unknown; key?: string; idempotencyKey?: string } = {},
) {
  const res = await fetch(`${api()}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      'content-type': 'application/json',
      ...(init.key !== '' && { 'x-api-key': init.key ?? BOB }),
      ...(init.idempotencyKey !== undefined && { 'idempotency-key': init.idempotencyKey }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function submit(inputs: string[], key = BOB): Promise<JobView> {
  const res = await request('/batch-jobs', {
    method: 'POST',
    key,
    body: { items: inputs.map((input) => ({ input })) },
  });
  expect(res.status).toBe(202);
  return res.json as unknown as JobView;
}

const getJob = async (id: string, key = BOB) =>
  (await request(`/batch-jobs/${id}`, { key })).json as unknown as JobView;

async function allItems(id: string): Promise<ItemView[]> {
  const items: ItemView[] = [];
  let after: string | undefined;
  do {
    const res = await request(`/batch-jobs/${id}/items?limit=100${after ? `&after=${after}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...(res.json.items as ItemView[]));
    after = res.json.next_after as string | undefined;
  } while (after);
  return items;
}

/** Runs the poller until every listed job is resolved; answers each run's statistics line. */
async function pollUntilResolved(ids: string[], maxRuns = 20, key = BOB): Promise<RunStats[]> {
  const runs: RunStats[] = [];
  for (let i = 0; i < maxRuns; i++) {
    runs.push(await poll());
    const jobs = await Promise.all(ids.map((id) => getJob(id, key)));
    if (jobs.every((job) => job.status === 'completed' || job.status === 'failed')) return runs;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`Jobs not resolved after ${maxRuns} poller runs: ${JSON.stringify(runs)}`);
}

const inputs = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} item ${i}`);

describe('batch-poller over HTTP with the local emulators and the OpenAI stand-in', () => {
  beforeAll(async () => {
    // Drain anything an earlier suite left active, so each test counts only its own jobs.
    await waitFor('no active batch jobs', async () => (await poll()).jobsPolled === 0, { intervalMs: 500 });
  });

  afterEach(async () => {
    await stubControl('/_stub/batch-outcomes', 'DELETE');
    await stubControl('/_stub/config', 'POST', { rateLimitShare: 0, retryAfterMs: null, latencyMs: 20 });
  });

  it('resolves 3 jobs of 30 items with aggregates that match their items', async () => {
    const jobs = await Promise.all([1, 2, 3].map((n) => submit(inputs(30, `job ${n}`))));
    for (const job of jobs)
      expect(job).toMatchObject({ status: 'running', total_items: 30, submitted_items: 30 });

    const runs = await pollUntilResolved(jobs.map((j) => j.job_id));
    expect(runs.reduce((sum, run) => sum + run.jobsResolved, 0)).toBe(3);
    for (const { job_id } of jobs) {
      const job = await getJob(job_id);
      expect(job).toMatchObject({
        status: 'completed',
        processed_items: 30,
        succeeded_items: 30,
        failed_items: 0,
      });
      const items = await allItems(job_id);
      expect(items).toHaveLength(30);
      expect(items.every((i) => i.status === 'succeeded' && i.result && i.provider_task_id)).toBe(true);
    }
  });

  it('fails a job whose items all fail, expire or error, recording each reason', async () => {
    const tag = randomUUID();
    await stubControl('/_stub/batch-outcomes', 'POST', { match: `${tag}-f`, outcome: 'failed' });
    await stubControl('/_stub/batch-outcomes', 'POST', { match: `${tag}-e`, outcome: 'expired' });
    await stubControl('/_stub/batch-outcomes', 'POST', { match: `${tag}-i`, outcome: 'item_error' });
    const job = await submit([`${tag}-f`, `${tag}-e`, `${tag}-i`]);

    await pollUntilResolved([job.job_id]);
    expect(await getJob(job.job_id)).toMatchObject({
      status: 'failed',
      processed_items: 3,
      succeeded_items: 0,
      failed_items: 3,
    });
    const items = await allItems(job.job_id);
    expect(items.map((i) => i.status)).toEqual(['failed', 'expired', 'failed']);
    // Public codes and messages only: the provider's own error text stays in the logs.
    expect(items.map((i) => i.error?.code)).toEqual(['provider_rejected', 'expired', 'item_failed']);
    for (const item of items) expect(item.error?.message).toEqual(expect.any(String));
    expect(JSON.stringify(items)).not.toMatch(/Injected/);
  });

  it('resolves every item while 30% of provider calls answer 429, backing off each time', async () => {
    const before = await stubControl<{ rateLimited: number }>('/_stub/stats');
    await stubControl('/_stub/config', 'POST', { rateLimitShare: 0.3 });
    const job = await submit(inputs(30, 'throttled'));

    const runs = await pollUntilResolved([job.job_id]);
    const after = await stubControl<{ rateLimited: number }>('/_stub/stats');
    expect(after.rateLimited - before.rateLimited).toBeGreaterThan(10);
    expect(runs.reduce((sum, run) => sum + run.backoffs, 0)).toBeGreaterThan(0);
    expect(await getJob(job.job_id)).toMatchObject({
      status: 'completed',
      processed_items: 30,
      succeeded_items: 30,
    });
  });

  it('never double-counts when two poller runs start at once', async () => {
    // Two warm instances (serverless-offline starts one per concurrent call and keeps it), so
    // neither run waits on a cold start while the other finishes alone.
    await Promise.all([poll(), poll()]);
    const job = await submit(inputs(30, 'overlap'));
    // Let every provider batch finish first, so both runs see all 30 as done at the same moment;
    // slow provider answers keep both runs busy long enough to overlap on every machine.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await stubControl('/_stub/config', 'POST', { latencyMs: 300 });
    const [a, b] = await Promise.all([poll(), poll()]);
    // Both runs really overlapped: each found the job open and polled its items.
    expect(a.itemsPolled).toBeGreaterThan(0);
    expect(b.itemsPolled).toBeGreaterThan(0);
    expect(a.itemsUpdated + b.itemsUpdated).toBe(30);
    expect(a.jobsResolved + b.jobsResolved).toBe(1);
    const resolved = await getJob(job.job_id);
    expect(resolved).toMatchObject({
      status: 'completed',
      processed_items: 30,
      succeeded_items: 30,
      failed_items: 0,
    });
    const items = await allItems(job.job_id);
    expect(items.filter((i) => i.status === 'succeeded')).toHaveLength(resolved.processed_items);
  });

  it('finishes a 120-item job over several runs, polling at most 50 of its items per run', async () => {
    const job = await submit(inputs(120, 'large'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const runs = await pollUntilResolved([job.job_id]);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const run of runs) expect(run.itemsPolled).toBeLessThanOrEqual(50);
    expect(runs.reduce((sum, run) => sum + run.itemsUpdated, 0)).toBe(120);
    expect(await getJob(job.job_id)).toMatchObject({ status: 'completed', processed_items: 120 });
  });

  it('answers 400 naming the field, 401 without a key and 404 for another caller’s job', async () => {
    const bad = await request('/batch-jobs', { method: 'POST', body: { items: [], color: 'red' } });
    expect(bad.status).toBe(400);
    const fields = (bad.json.error as { details: { field: string }[] }).details.map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['items', 'color']));

    expect(
      (await request('/batch-jobs', { method: 'POST', key: '', body: { items: [{ input: 'x' }] } })).status,
    ).toBe(401);

    const job = await submit(['mine']);
    expect((await request(`/batch-jobs/${job.job_id}`, { key: CAROL })).status).toBe(404);
    expect((await request(`/batch-jobs/${job.job_id}/items`, { key: CAROL })).status).toBe(404);
    await pollUntilResolved([job.job_id]);
  });

  it('pages through items in order', async () => {
    const job = await submit(inputs(25, 'paged'));
    const first = await request(`/batch-jobs/${job.job_id}/items?limit=10`);
    expect((first.json.items as ItemView[]).map((i) => i.item_id)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(i + 1).padStart(4, '0')),
    );
    expect(first.json.next_after).toBe('0010');
    expect(await allItems(job.job_id)).toHaveLength(25);
    await pollUntilResolved([job.job_id]);
  });
});

interface StubBatch {
  id: string;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  metadata: Record<string, string> | null;
}
interface StubStats {
  batchRequests: number;
  filesCreated: number;
  filesDeleted: number;
  batchesCreated: number;
}

/** Every object of a list route of the stand-in, following its cursor pages. */
async function stubList<T extends { id: string }>(route: string): Promise<T[]> {
  const all: T[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await stubControl<{ data: T[]; has_more: boolean }>(
      `/v1/${route}?limit=100${after ? `&after=${after}` : ''}`,
    );
    all.push(...page.data);
    if (!page.has_more) return all;
    after = page.data[page.data.length - 1]!.id;
  }
}

/** The provider batches the stand-in holds for a job, counted per item id. */
async function batchesPerItem(jobId: string): Promise<Map<string, StubBatch[]>> {
  const perItem = new Map<string, StubBatch[]>();
  for (const batch of await stubList<StubBatch>('batches')) {
    if (batch.metadata?.job_id !== jobId) continue;
    const itemId = batch.metadata.item_id!;
    perItem.set(itemId, [...(perItem.get(itemId) ?? []), batch]);
  }
  return perItem;
}

const stubStats = () => stubControl<StubStats>('/_stub/stats');

describe('batch-poller: one provider batch per item, idempotent retries, clean-up and budgets', () => {
  afterEach(async () => {
    await stubControl('/_stub/config', 'POST', { latencyMs: 20 });
  });

  it('creates exactly one provider batch per item while POSTs and poller runs race', async () => {
    // Slow provider answers keep every POST submitting while the poller runs start.
    await stubControl('/_stub/config', 'POST', { latencyMs: 150 });
    const before = await stubStats();
    const posts = Promise.all([1, 2, 3, 4].map((n) => submit(inputs(15, `race ${n}`))));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const racing = await Promise.all([poll(), poll()]);
    const jobs = await posts;
    await stubControl('/_stub/config', 'POST', { latencyMs: 20 });
    // The runs met the jobs while they were being submitted.
    expect(racing.reduce((sum, run) => sum + run.itemsPolled, 0)).toBeGreaterThan(0);

    await pollUntilResolved(jobs.map((j) => j.job_id));
    for (const job of jobs) {
      const perItem = await batchesPerItem(job.job_id);
      expect(perItem.size).toBe(15);
      expect([...perItem.values()].every((batches) => batches.length === 1)).toBe(true);
      expect(await getJob(job.job_id)).toMatchObject({ status: 'completed', submitted_items: 15 });
    }
    const after = await stubStats();
    expect(after.batchesCreated - before.batchesCreated).toBe(60);
    expect(after.filesCreated - before.filesCreated).toBe(60);
  });

  it('answers an Idempotency-Key retry with the first job, creating no provider object', async () => {
    const key = `retry-${randomUUID()}`;
    const body = { items: inputs(3, key).map((input) => ({ input })) };
    const first = await request('/batch-jobs', { method: 'POST', body, idempotencyKey: key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const before = await stubStats();

    const again = await request('/batch-jobs', { method: 'POST', body, idempotencyKey: key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.job_id).toBe(first.json.job_id);
    expect(again.headers.get('location')).toBe(`/batch-jobs/${String(first.json.job_id)}`);

    const reused = await request('/batch-jobs', {
      method: 'POST',
      body: { items: [{ input: 'another body' }] },
      idempotencyKey: key,
    });
    expect(reused.status).toBe(422);
    expect((reused.json.error as { code: string }).code).toBe('idempotency_key_reused');

    const after = await stubStats();
    expect(after.filesCreated).toBe(before.filesCreated);
    expect(after.batchesCreated).toBe(before.batchesCreated);
    await pollUntilResolved([String(first.json.job_id)]);
  });

  it('deletes every input, output and error file once the item’s batch has ended', async () => {
    const tag = randomUUID();
    await stubControl('/_stub/batch-outcomes', 'POST', { match: `${tag}-i`, outcome: 'item_error' });
    const before = await stubStats();
    const job = await submit([`${tag}-a`, `${tag}-b`, `${tag}-i`]);
    await pollUntilResolved([job.job_id]);
    await stubControl('/_stub/batch-outcomes', 'DELETE');

    const batches = [...(await batchesPerItem(job.job_id)).values()].flat();
    expect(batches).toHaveLength(3);
    const produced = batches.flatMap((b) =>
      [b.input_file_id, b.output_file_id, b.error_file_id].filter((id): id is string => id !== null),
    );
    // Three inputs, two outputs and one error file.
    expect(produced).toHaveLength(6);
    const remaining = new Set((await stubList<{ id: string }>('files')).map((f) => f.id));
    expect(produced.filter((id) => remaining.has(id))).toEqual([]);
    expect((await stubStats()).filesDeleted - before.filesDeleted).toBeGreaterThanOrEqual(6);
  });

  it('answers an over-budget caller 429 budget_exceeded with Retry-After, and the provider sees no call', async () => {
    const first = await submit(inputs(30, 'carol budget'), CAROL);
    const before = await stubStats();
    const over = await request('/batch-jobs', {
      method: 'POST',
      key: CAROL,
      body: { items: inputs(20, 'carol over').map((input) => ({ input })) },
    });
    expect(over.status).toBe(429);
    expect((over.json.error as { code: string }).code).toBe('budget_exceeded');
    const retryAfter = Number(over.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(24 * 60 * 60);
    expect((await stubStats()).batchRequests).toBe(before.batchRequests);
    await pollUntilResolved([first.job_id], 20, CAROL);
  });

  it('refuses a max_tokens above the ceiling with 400 naming the field', async () => {
    const res = await request('/batch-jobs', {
      method: 'POST',
      body: { max_tokens: 2000, items: [{ input: 'x' }] },
    });
    expect(res.status).toBe(400);
    const fields = (res.json.error as { details: { field: string }[] }).details.map((d) => d.field);
    expect(fields).toContain('max_tokens');
  });

  it('skips an unreadable record, counts it and carries on with the rest', async () => {
    const badId = randomUUID();
    // A job record the schema no longer accepts, as a bad write or an old format would leave.
    await dynamo.send(
      new PutCommand({
        TableName: JOBS_TABLE,
        Item: { job_id: badId, active: 'active', status: 'unknown', created_at: 'yesterday' },
      }),
    );
    try {
      const job = await submit(inputs(2, 'next to a bad record'));
      const runs = await pollUntilResolved([job.job_id]);
      expect(runs.every((run) => run.unreadable >= 1 && run.errors === 0)).toBe(true);
      expect(await getJob(job.job_id)).toMatchObject({ status: 'completed', processed_items: 2 });
    } finally {
      await dynamo.send(new DeleteCommand({ TableName: JOBS_TABLE, Key: { job_id: badId } }));
    }
  });
});
