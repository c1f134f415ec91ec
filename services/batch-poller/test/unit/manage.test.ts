import { randomUUID } from 'node:crypto';
import { NotFoundError, PublicFailureError, ValidationError } from '@offload/errors';
import { createBatchJobBodySchema, liveEvent, type LiveEvent } from '@offload/messages';
import { newBatchJob } from '../../src/domain/batchJobs';
import { BatchJobFinishedError, cancelBatchJobFor, listBatchJobsFor } from '../../src/domain/manage';
import { pollPass } from '../../src/domain/poller';
import { submitItems } from '../../src/domain/submit';
import { memoryStore, scriptedProvider } from '../support/memory';

const submitOptions = { claimStaleMs: 120_000, defaultMaxTokens: 256 };
const pollOptions = { maxItemsPerJob: 50, concurrency: 5, cleanupsPerPass: 50, ...submitOptions };
const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 10, 0, s));

async function setup() {
  const memory = memoryStore();
  const scripted = scriptedProvider([{ status: 'in_progress' }]);
  const warnings: Record<string, unknown>[] = [];
  const deps = {
    store: memory.store,
    provider: scripted.provider,
    clock: { now: () => at(59) },
    hasTime: () => true,
    newToken: randomUUID,
    warn: (_m: string, fields: Record<string, unknown>) => warnings.push(fields),
  };
  const add = async (owner: string, second: number, items = 2) => {
    const body = createBatchJobBodySchema.parse({
      items: Array.from({ length: items }, (_, i) => ({ input: `item ${i}` })),
    });
    const created = newBatchJob(body, owner, randomUUID(), at(second).toISOString(), 256);
    await memory.store.createJob(created.job, created.items);
    return created;
  };
  return { ...memory, ...scripted, deps, add, warnings };
}

describe('listBatchJobsFor', () => {
  it('pages the owner’s batch jobs newest first and never shows another owner’s', async () => {
    const s = await setup();
    const a1 = await s.add('alice', 1);
    await s.add('carol', 2);
    const a3 = await s.add('alice', 3);
    const a4 = await s.add('alice', 4);
    const first = await listBatchJobsFor(s.store, 'alice', { limit: 2 });
    expect(first.batch_jobs.map((j) => j.job_id)).toEqual([a4.job.job_id, a3.job.job_id]);
    expect(first.batch_jobs[0]).not.toHaveProperty('owner');
    const second = await listBatchJobsFor(s.store, 'alice', { limit: 2, cursor: first.next_cursor! });
    expect(second).toEqual({
      batch_jobs: [expect.objectContaining({ job_id: a1.job.job_id })],
      next_cursor: null,
    });
    await expect(listBatchJobsFor(s.store, 'alice', { limit: 2, cursor: '!!' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('cancelBatchJobFor', () => {
  it('ends a job none of whose items reached the provider as cancelled at once', async () => {
    const s = await setup();
    const { job } = await s.add('alice', 1, 3);
    const outcome = await cancelBatchJobFor(s.deps, job.job_id, 'alice');
    expect(outcome.state).toBe('cancelled');
    expect(outcome.job).toMatchObject({ status: 'cancelled', processed_items: 3, cancel_requested: true });
    expect((await s.store.allItems(job.job_id)).every((i) => i.status === 'cancelled')).toBe(true);
    expect(s.cancelled).toEqual([]);
    await expect(cancelBatchJobFor(s.deps, job.job_id, 'alice')).rejects.toBeInstanceOf(
      BatchJobFinishedError,
    );
  });

  it('cancels submitted items at the provider; the poller then ends the job cancelled, submitting nothing new', async () => {
    const s = await setup();
    const { job, items } = await s.add('alice', 1, 3);
    // Two items reach the provider; the third stays queued (a refused submit).
    s.failSubmitFor.set('0003', new Error('refused'));
    await submitItems(s.deps, submitOptions, job, items, 3);
    s.failSubmitFor.clear();
    const outcome = await cancelBatchJobFor(s.deps, job.job_id, 'alice');
    expect(outcome.state).toBe('cancelling');
    expect(outcome.job).toMatchObject({ status: 'running', cancel_requested: true });
    expect(s.cancelled).toHaveLength(2);
    const submittedBefore = s.submitted.length;
    await pollPass(s.deps, pollOptions);
    await pollPass(s.deps, pollOptions);
    expect(s.submitted.length).toBe(submittedBefore);
    expect(await s.store.getJob(job.job_id)).toMatchObject({ status: 'cancelled', processed_items: 3 });
  });

  it('treats another owner’s job like a missing one', async () => {
    const s = await setup();
    const { job } = await s.add('alice', 1);
    await expect(cancelBatchJobFor(s.deps, job.job_id, 'carol')).rejects.toBeInstanceOf(NotFoundError);
    expect((await s.store.getJob(job.job_id))?.cancel_requested).toBeUndefined();
  });
});

describe('batch events', () => {
  it('the poller publishes each finished item with its result and the job’s aggregates once per pass', async () => {
    const s = await setup();
    const { job, items } = await s.add('alice', 1, 2);
    await submitItems(s.deps, submitOptions, job, items, 2);
    s.scripts.set('0001', [{ status: 'succeeded', result: 'first answer', files: [] }]);
    s.scripts.set('0002', [
      { status: 'failed', failure: new PublicFailureError('no_luck', 'no luck'), files: [] },
    ]);
    const published: LiveEvent[] = [];
    await pollPass(
      { ...s.deps, events: { publish: async (e) => void published.push(liveEvent.parse(e)) } },
      pollOptions,
    );
    const itemEvents = published.filter((e) => e.type === 'batch_item.completed').map((e) => e.data);
    expect(itemEvents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          batch_job_id: job.job_id,
          item_id: '0001',
          status: 'succeeded',
          result: 'first answer',
        }),
        expect.objectContaining({
          item_id: '0002',
          status: 'failed',
          error: { code: 'no_luck', message: 'no luck' },
        }),
      ]),
    );
    const jobEvents = published.filter((e) => e.type === 'batch_job.updated');
    expect(jobEvents).toHaveLength(1);
    expect(jobEvents[0]!.data).toMatchObject({
      batch_job_id: job.job_id,
      owner: 'alice',
      status: 'completed',
      counts: { total: 2, submitted: 2, processed: 2, succeeded: 1, failed: 1 },
    });
  });

  it('a cancel publishes the items it ended and the job’s final state', async () => {
    const s = await setup();
    const { job } = await s.add('alice', 1, 2);
    const published: LiveEvent[] = [];
    await cancelBatchJobFor(
      { ...s.deps, events: { publish: async (e) => void published.push(e) } },
      job.job_id,
      'alice',
    );
    expect(published.map((e) => [e.type, e.data.status])).toEqual([
      ['batch_item.completed', 'cancelled'],
      ['batch_item.completed', 'cancelled'],
      ['batch_job.updated', 'cancelled'],
    ]);
  });
});
