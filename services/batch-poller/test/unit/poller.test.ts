import { fixedClock } from '@offload/testing/clock';
import { randomUUID } from 'node:crypto';
import { createBatchJobBodySchema } from '@offload/messages';
import { PublicFailureError } from '@offload/errors';
import { newBatchJob, type ProviderCheck } from '../../src/domain/batchJobs';
import { pollPass, pollRun, type PollDeps } from '../../src/domain/poller';
import { submitItems } from '../../src/domain/submit';
import { memoryStore, scriptedProvider } from '../support/memory';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const options = {
  maxItemsPerJob: 50,
  concurrency: 20,
  cleanupsPerPass: 50,
  claimStaleMs: 120_000,
  defaultMaxTokens: 256,
};
const failure = (code: string, detail: string) =>
  new PublicFailureError(code, `public ${code}`, { cause: new Error(detail) });

async function setup(itemCount: number, script?: ProviderCheck[]) {
  const memory = memoryStore();
  const scripted = scriptedProvider(script);
  const warnings: Record<string, unknown>[] = [];
  const deps: PollDeps = {
    store: memory.store,
    provider: scripted.provider,
    clock: fixedClock(NOW.toISOString()),
    hasTime: () => true,
    newToken: randomUUID,
    warn: (_message, fields) => warnings.push(fields),
  };
  const body = createBatchJobBodySchema.parse({
    items: Array.from({ length: itemCount }, (_, i) => ({ input: `item ${i}` })),
  });
  const { job, items } = newBatchJob(body, 'alice', randomUUID(), NOW.toISOString(), 256);
  await memory.store.createJob(job, items);
  return { ...memory, ...scripted, deps, job, items, warnings };
}

const job = async (s: Awaited<ReturnType<typeof setup>>) => (await s.store.getJob(s.job.job_id))!;

describe('submitItems', () => {
  it('submits every item, stores its provider id and marks the job running with the count', async () => {
    const s = await setup(3);
    expect(await submitItems(s.deps, options, s.job, s.items, 2)).toBe(3);
    expect(s.submitted.map((r) => r.itemId)).toEqual(['0001', '0002', '0003']);
    expect(await job(s)).toMatchObject({ status: 'running', submitted_items: 3 });
    expect(
      (await s.store.allItems(s.job.job_id)).every((i) => i.status === 'validating' && i.provider_task_id),
    ).toBe(true);
  });

  it('leaves an item the provider refused queued for the poller, which submits it later', async () => {
    const s = await setup(2);
    s.failSubmitFor.set('0002', new Error('submit refused'));
    expect(await submitItems(s.deps, options, s.job, s.items, 2)).toBe(1);
    expect(s.warnings).toEqual([expect.objectContaining({ item_id: '0002' })]);
    s.failSubmitFor.clear();
    const stats = await pollPass(s.deps, options);
    expect(stats.itemsUpdated).toBeGreaterThanOrEqual(1);
    expect(await job(s)).toMatchObject({ submitted_items: 2 });
  });

  it('submits nothing once time runs out', async () => {
    const s = await setup(2);
    expect(await submitItems({ ...s.deps, hasTime: () => false }, options, s.job, s.items, 2)).toBe(0);
    expect(await job(s)).toMatchObject({ status: 'queued', submitted_items: 0 });
  });
});

describe('pollPass', () => {
  it('maps provider states to item states, stores results and resolves the job with exact aggregates', async () => {
    const s = await setup(4, [
      { status: 'in_progress' },
      { status: 'finalizing' },
      { status: 'succeeded', result: 'done', files: ['file-in', 'file-out'] },
    ]);
    s.scripts.set('0004', [
      { status: 'validating' },
      { status: 'failed', failure: failure('item_failed', 'bad request line'), files: ['file-in-4'] },
    ]);
    await submitItems(s.deps, options, s.job, s.items, 4);

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
    // The client sees the public failure only; the provider's text went to the logs.
    expect(items[3]!.error).toEqual({ code: 'item_failed', message: 'public item_failed' });
    expect(JSON.stringify(items)).not.toContain('bad request line');
    expect(s.warnings).toEqual([
      expect.objectContaining({ item_id: '0004', reason: expect.stringContaining('bad request line') }),
    ]);
    // Every ended item's provider files are deleted once, and nothing is left to clean up.
    expect(s.deleted.sort()).toEqual([
      'file-in',
      'file-in',
      'file-in',
      'file-in-4',
      'file-out',
      'file-out',
      'file-out',
    ]);
    expect(await s.store.pendingCleanups(50)).toEqual([]);
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
    const s = await setup(3, [{ status: 'failed', failure: failure('provider_rejected', 'x'), files: [] }]);
    s.scripts.set('0002', [{ status: 'expired', failure: failure('expired', 'late'), files: [] }]);
    s.scripts.set('0003', [
      { status: 'cancelling' },
      { status: 'cancelled', failure: failure('cancelled', 'stopped'), files: [] },
    ]);
    await submitItems(s.deps, options, s.job, s.items, 3);
    await pollPass(s.deps, options);
    await pollPass(s.deps, options);
    expect(await job(s)).toMatchObject({
      status: 'failed',
      processed_items: 3,
      succeeded_items: 0,
      failed_items: 3,
    });
  });

  it("writes a job's counters once per pass, however many of its items ended in it", async () => {
    const s = await setup(25);
    await submitItems(s.deps, options, s.job, s.items, 5);
    expect(s.countWrites.get(s.job.job_id)).toBe(1);

    await pollPass(s.deps, { ...options, maxItemsPerJob: 20 });
    expect(s.countWrites.get(s.job.job_id)).toBe(2);
    expect(await job(s)).toMatchObject({
      status: 'running',
      submitted_items: 25,
      processed_items: 20,
      succeeded_items: 20,
    });

    await pollPass(s.deps, options);
    expect(s.countWrites.get(s.job.job_id)).toBe(3);
    expect(await job(s)).toMatchObject({ status: 'completed', processed_items: 25, succeeded_items: 25 });
  });

  it('never counts an item twice when two passes overlap', async () => {
    const s = await setup(30);
    await submitItems(s.deps, options, s.job, s.items, 10);
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
    await submitItems(s.deps, options, s.job, s.items, 20);
    const passes = [];
    for (let i = 0; i < 3; i++) passes.push(await pollPass(s.deps, options));
    expect(passes.map((p) => p.itemsPolled)).toEqual([50, 50, 20]);
    expect(passes.map((p) => p.jobsResolved)).toEqual([0, 0, 1]);
    expect(await job(s)).toMatchObject({ status: 'completed', processed_items: 120 });
  });

  it('keeps polling with at most `concurrency` provider calls in flight', async () => {
    const s = await setup(40);
    await submitItems(s.deps, options, s.job, s.items, 20);
    let inFlight = 0;
    let peak = 0;
    const slow = {
      ...s.deps.provider,
      check: async (id: string) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= 1;
        return s.deps.provider.check(id);
      },
    };
    await pollPass({ ...s.deps, provider: slow }, { ...options, concurrency: 7 });
    expect(peak).toBe(7);
  });

  it('counts a failed provider call as an error, leaves the item open and retries it next pass', async () => {
    const s = await setup(2);
    await submitItems(s.deps, options, s.job, s.items, 2);
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
    await submitItems(s.deps, options, s.job, s.items, 5);
    let budget = 2;
    const stats = await pollPass({ ...s.deps, hasTime: () => budget-- > 0 }, { ...options, concurrency: 1 });
    expect(stats).toMatchObject({ itemsPolled: 2, deferred: 3, jobsResolved: 0 });
    expect(await s.store.openItems(s.job.job_id, 50)).toHaveLength(3);
  });

  it('resolves a job whose items all finished but which a crashed run left open', async () => {
    const s = await setup(2);
    await submitItems(s.deps, options, s.job, s.items, 2);
    for (const item of await s.store.allItems(s.job.job_id))
      await s.store.finishItem(item, { status: 'succeeded', result: 'r', files: [] }, NOW.toISOString());
    const stats = await pollPass(s.deps, options);
    expect(stats).toMatchObject({ itemsPolled: 0, jobsResolved: 1 });
    expect(await job(s)).toMatchObject({ status: 'completed', processed_items: 2, succeeded_items: 2 });
  });

  it('logs a failed file deletion without failing the pass and deletes the files on a later pass', async () => {
    const s = await setup(1, [{ status: 'succeeded', result: 'ok', files: ['file-in', 'file-out'] }]);
    await submitItems(s.deps, options, s.job, s.items, 1);
    s.failDeletes.remaining = 1;
    const first = await pollPass(s.deps, options);
    expect(first).toMatchObject({ errors: 0, jobsResolved: 1, cleanupErrors: 1, filesDeleted: 0 });
    expect(await s.store.pendingCleanups(50)).toHaveLength(1);
    const second = await pollPass(s.deps, options);
    expect(second).toMatchObject({ cleanupErrors: 0, filesDeleted: 2 });
    expect(s.deleted).toEqual(['file-in', 'file-out']);
    expect(await s.store.pendingCleanups(50)).toEqual([]);
  });
});

describe('pollRun', () => {
  it('makes its passes the interval apart and reports their sum', async () => {
    const s = await setup(3, [{ status: 'in_progress' }, { status: 'succeeded', result: 'ok', files: [] }]);
    await submitItems(s.deps, options, s.job, s.items, 3);
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
    await submitItems(s.deps, options, s.job, s.items, 2);
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
