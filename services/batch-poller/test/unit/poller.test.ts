import { randomUUID } from 'node:crypto';
import { createBatchJobBodySchema } from '@offload/messages';
import { newBatchJob, type ProviderCheck } from '../../src/domain/batchJobs';
import { TooManyRequestsError } from '@offload/errors';
import {
  pollPass,
  pollRun,
  submitBatchJob,
  submitItems,
  type PollDeps,
  type RateLimiter,
} from '../../src/domain/poller';
import { memoryStore, scriptedProvider } from '../support/memory';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const options = { maxItemsPerJob: 50, concurrency: 20 };

async function setup(itemCount: number, script?: ProviderCheck[]) {
  const memory = memoryStore();
  const scripted = scriptedProvider(script);
  const warnings: Record<string, unknown>[] = [];
  const deps: PollDeps = {
    store: memory.store,
    provider: scripted.provider,
    clock: { now: () => NOW },
    hasTime: () => true,
    warn: (_message, fields) => warnings.push(fields),
  };
  const body = createBatchJobBodySchema.parse({
    items: Array.from({ length: itemCount }, (_, i) => ({ input: `item ${i}` })),
  });
  const { job, items } = newBatchJob(body, 'alice', randomUUID(), NOW.toISOString());
  await memory.store.createJob(job, items);
  return { ...memory, ...scripted, deps, job, items, warnings };
}

const job = async (s: Awaited<ReturnType<typeof setup>>) => (await s.store.getJob(s.job.job_id))!;

describe('submitItems', () => {
  it('submits every item, stores its provider id and marks the job running with the count', async () => {
    const s = await setup(3);
    expect(await submitItems(s.deps, s.job, s.items, 2)).toBe(3);
    expect(s.submitted.map((r) => r.itemId)).toEqual(['0001', '0002', '0003']);
    expect(await job(s)).toMatchObject({ status: 'running', submitted_items: 3 });
    expect(
      (await s.store.allItems(s.job.job_id)).every((i) => i.status === 'validating' && i.provider_task_id),
    ).toBe(true);
  });

  it('leaves an item the provider refused queued for the poller, which submits it later', async () => {
    const s = await setup(2);
    s.failSubmitFor.add('0002');
    expect(await submitItems(s.deps, s.job, s.items, 2)).toBe(1);
    expect(s.warnings).toEqual([expect.objectContaining({ item_id: '0002' })]);
    s.failSubmitFor.clear();
    const stats = await pollPass(s.deps, options);
    expect(stats.itemsUpdated).toBeGreaterThanOrEqual(1);
    expect(await job(s)).toMatchObject({ submitted_items: 2 });
  });

  it('submits nothing once time runs out', async () => {
    const s = await setup(2);
    expect(await submitItems({ ...s.deps, hasTime: () => false }, s.job, s.items, 2)).toBe(0);
    expect(await job(s)).toMatchObject({ status: 'queued', submitted_items: 0 });
  });
});

describe('pollPass', () => {
  it('maps provider states to item states, stores results and resolves the job with exact aggregates', async () => {
    const s = await setup(4, [
      { status: 'in_progress' },
      { status: 'finalizing' },
      { status: 'succeeded', result: 'done' },
    ]);
    s.scripts.set('0004', [{ status: 'validating' }, { status: 'failed', error: 'bad request line' }]);
    await submitItems(s.deps, s.job, s.items, 4);

    const first = await pollPass(s.deps, options);
    expect(first).toMatchObject({ jobsPolled: 1, itemsPolled: 4, jobsResolved: 0, errors: 0 });
    expect((await s.store.allItems(s.job.job_id)).map((i) => i.status)).toEqual([
      'in_progress',
      'in_progress',
      'in_progress',
      'validating',
    ]);

    await pollPass(s.deps, options);
    const third = await pollPass(s.deps, options);
    expect(third.jobsResolved).toBe(1);
    const items = await s.store.allItems(s.job.job_id);
    expect(items.map((i) => i.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed']);
    expect(items[0]).toMatchObject({ result: 'done', completed_at: NOW.toISOString() });
    expect(items[3]).toMatchObject({ error: 'bad request line' });
    expect(await job(s)).toMatchObject({
      status: 'completed',
      processed_items: 4,
      succeeded_items: 3,
      failed_items: 1,
      completed_at: NOW.toISOString(),
    });
    expect(await s.store.activeJobs()).toEqual([]);
  });

  it('fails a job whose items all fail, expire or are cancelled', async () => {
    const s = await setup(3, [{ status: 'failed', error: 'x' }]);
    s.scripts.set('0002', [{ status: 'expired', error: 'expired' }]);
    s.scripts.set('0003', [{ status: 'cancelling' }, { status: 'cancelled', error: 'cancelled' }]);
    await submitItems(s.deps, s.job, s.items, 3);
    await pollPass(s.deps, options);
    await pollPass(s.deps, options);
    expect(await job(s)).toMatchObject({
      status: 'failed',
      processed_items: 3,
      succeeded_items: 0,
      failed_items: 3,
    });
  });

  it('never counts an item twice when two passes overlap', async () => {
    const s = await setup(30);
    await submitItems(s.deps, s.job, s.items, 10);
    const [a, b] = await Promise.all([pollPass(s.deps, options), pollPass(s.deps, options)]);
    expect(a.itemsUpdated + b.itemsUpdated).toBe(30);
    expect(a.jobsResolved + b.jobsResolved).toBe(1);
    expect(await job(s)).toMatchObject({
      processed_items: 30,
      succeeded_items: 30,
      failed_items: 0,
      status: 'completed',
    });
  });

  it('polls at most maxItemsPerJob items of a job per pass and finishes the rest on later passes', async () => {
    const s = await setup(120);
    await submitItems(s.deps, s.job, s.items, 20);
    const passes = [];
    for (let i = 0; i < 3; i++) passes.push(await pollPass(s.deps, options));
    expect(passes.map((p) => p.itemsPolled)).toEqual([50, 50, 20]);
    expect(passes.map((p) => p.jobsResolved)).toEqual([0, 0, 1]);
    expect(await job(s)).toMatchObject({ status: 'completed', processed_items: 120 });
  });

  it('keeps polling with at most `concurrency` provider calls in flight', async () => {
    const s = await setup(40);
    await submitItems(s.deps, s.job, s.items, 20);
    let inFlight = 0;
    let peak = 0;
    const slow = {
      submit: s.deps.provider.submit,
      cancel: s.deps.provider.cancel,
      check: async (id: string) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= 1;
        return s.deps.provider.check(id);
      },
    };
    await pollPass({ ...s.deps, provider: slow }, { maxItemsPerJob: 50, concurrency: 7 });
    expect(peak).toBe(7);
  });

  it('counts a failed provider call as an error, leaves the item open and retries it next pass', async () => {
    const s = await setup(2);
    await submitItems(s.deps, s.job, s.items, 2);
    s.failChecksFor.set('0001', 1);
    const first = await pollPass(s.deps, options);
    expect(first).toMatchObject({ errors: 1, itemsUpdated: 1, jobsResolved: 0 });
    expect(s.warnings).toEqual([
      expect.objectContaining({ item_id: '0001', reason: expect.stringMatching(/429/) }),
    ]);
    const second = await pollPass(s.deps, options);
    expect(second).toMatchObject({ errors: 0, itemsUpdated: 1, jobsResolved: 1 });
  });

  it('defers items it has no time to start and leaves them for the next run', async () => {
    const s = await setup(5);
    await submitItems(s.deps, s.job, s.items, 5);
    let budget = 2;
    const stats = await pollPass(
      { ...s.deps, hasTime: () => budget-- > 0 },
      { maxItemsPerJob: 50, concurrency: 1 },
    );
    expect(stats).toMatchObject({ itemsPolled: 2, deferred: 3, jobsResolved: 0 });
    expect(await s.store.openItems(s.job.job_id, 50)).toHaveLength(3);
  });

  it('resolves a job whose items all finished but which a crashed run left open', async () => {
    const s = await setup(2);
    await submitItems(s.deps, s.job, s.items, 2);
    for (const item of await s.store.allItems(s.job.job_id))
      await s.store.finishItem(item, { status: 'succeeded', result: 'r' }, NOW.toISOString());
    const stats = await pollPass(s.deps, options);
    expect(stats).toMatchObject({ itemsPolled: 0, jobsResolved: 1 });
    expect(await job(s)).toMatchObject({ status: 'completed', processed_items: 2, succeeded_items: 2 });
  });
});

describe('pollRun', () => {
  it('makes its passes the interval apart and reports their sum', async () => {
    const s = await setup(3, [{ status: 'in_progress' }, { status: 'succeeded', result: 'ok' }]);
    await submitItems(s.deps, s.job, s.items, 3);
    let clock = NOW.getTime();
    const sleeps: number[] = [];
    const stats = await pollRun(
      {
        ...s.deps,
        clock: { now: () => new Date(clock) },
        sleep: async (ms) => {
          sleeps.push(ms);
          clock += ms;
        },
      },
      { ...options, passes: 2, passIntervalMs: 30_000 },
    );
    expect(sleeps).toEqual([30_000]);
    expect(stats).toMatchObject({ passes: 2, itemsPolled: 6, jobsResolved: 1 });
  });

  it('skips the second pass when the first left no job open', async () => {
    const s = await setup(2);
    await submitItems(s.deps, s.job, s.items, 2);
    const sleeps: number[] = [];
    const stats = await pollRun(
      { ...s.deps, sleep: async (ms) => void sleeps.push(ms) },
      { ...options, passes: 2, passIntervalMs: 30_000 },
    );
    expect(stats).toMatchObject({ passes: 1, jobsResolved: 1 });
    expect(sleeps).toEqual([]);
  });

  it('skips the second pass when there is no time left for it', async () => {
    const s = await setup(1, [{ status: 'in_progress' }]);
    let calls = 0;
    const stats = await pollRun(
      { ...s.deps, hasTime: () => calls++ === 0, sleep: async () => undefined },
      { ...options, passes: 2, passIntervalMs: 30_000 },
    );
    expect(stats.passes).toBe(1);
  });
});

describe('submitBatchJob', () => {
  const body = createBatchJobBodySchema.parse({ name: 'n', items: [{ input: 'a' }, { input: 'b' }] });
  const allow: RateLimiter = async () => ({ allowed: true });

  it('records the job and its items and answers it running with every item submitted', async () => {
    const s = await setup(1);
    const id = randomUUID();
    const job = await submitBatchJob(
      { ...s.deps, rateLimit: allow, rateLimitPerMinute: 10, submitConcurrency: 2 },
      'alice',
      body,
      id,
    );
    expect(job).toMatchObject({
      job_id: id,
      owner: 'alice',
      status: 'running',
      total_items: 2,
      submitted_items: 2,
    });
    expect(await s.store.allItems(id)).toHaveLength(2);
  });

  it('refuses a caller over the limit with 429 and Retry-After, recording nothing', async () => {
    const s = await setup(1);
    const calls: [string, number][] = [];
    const refuse: RateLimiter = async (owner, limit) => {
      calls.push([owner, limit]);
      return { allowed: false, retryAfterSeconds: 12 };
    };
    const id = randomUUID();
    const attempt = submitBatchJob(
      { ...s.deps, rateLimit: refuse, rateLimitPerMinute: 10, submitConcurrency: 2 },
      'alice',
      body,
      id,
    );
    await expect(attempt).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(attempt).rejects.toMatchObject({ status: 429, retryAfterSeconds: 12 });
    expect(calls).toEqual([['alice', 10]]);
    expect(await s.store.getJob(id)).toBeUndefined();
    expect(s.submitted).toEqual([]);
  });
});
