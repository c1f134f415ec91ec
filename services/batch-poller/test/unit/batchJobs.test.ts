import { NotFoundError } from '@offload/errors';
import { createBatchJobBodySchema } from '@offload/messages';
import { getJobFor, itemView, jobView, newBatchJob, resolution } from '../../src/domain/batchJobs';
import { memoryStore } from '../support/memory';

const JOB_ID = '4b0c3f5e-8d1e-4b8e-9a57-0a4f7e2c1d11';
const NOW = '2026-11-26T10:00:00.000Z';
const body = createBatchJobBodySchema.parse({
  name: ' Reviews ',
  system: 'Be brief',
  items: [{ input: 'one' }, { input: 'two\u0007' }],
});

describe('newBatchJob', () => {
  it('records a queued job with zeroed aggregates and one queued item per input, in order', () => {
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW);
    expect(job).toMatchObject({
      job_id: JOB_ID,
      owner: 'alice',
      name: 'Reviews',
      status: 'queued',
      total_items: 2,
      submitted_items: 0,
      processed_items: 0,
      succeeded_items: 0,
      failed_items: 0,
    });
    expect(items.map((i) => [i.item_id, i.input, i.status])).toEqual([
      ['0001', 'one', 'queued'],
      ['0002', 'two', 'queued'],
    ]);
  });
});

describe('resolution', () => {
  const job = { total_items: 3 };
  it('waits while any item is open or missing', () => {
    expect(
      resolution(job, [{ status: 'succeeded' }, { status: 'in_progress' }, { status: 'failed' }]),
    ).toBeUndefined();
    expect(resolution(job, [{ status: 'succeeded' }, { status: 'failed' }])).toBeUndefined();
  });
  it('completes a job with at least one success and counts every kind of failure as failed', () => {
    expect(
      resolution(job, [{ status: 'succeeded' }, { status: 'expired' }, { status: 'cancelled' }]),
    ).toEqual({
      status: 'completed',
      totals: { processed_items: 3, succeeded_items: 1, failed_items: 2 },
    });
  });
  it('fails a job whose items all failed', () => {
    expect(resolution(job, [{ status: 'failed' }, { status: 'failed' }, { status: 'expired' }])?.status).toBe(
      'failed',
    );
  });
});

describe('views and ownership', () => {
  it('never shows the owner, the system prompt or the inputs', () => {
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW);
    expect(jobView(job)).not.toHaveProperty('owner');
    expect(jobView(job)).not.toHaveProperty('system');
    expect(itemView(items[0]!)).toEqual({
      item_id: '0001',
      status: 'queued',
      created_at: NOW,
      updated_at: NOW,
    });
  });

  it('answers not found for another owner’s job, as for an unknown one', async () => {
    const { store } = memoryStore();
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW);
    await store.createJob(job, items);
    await expect(getJobFor(store, JOB_ID, 'alice')).resolves.toMatchObject({ job_id: JOB_ID });
    await expect(getJobFor(store, JOB_ID, 'carol')).rejects.toBeInstanceOf(NotFoundError);
    await expect(getJobFor(store, '00000000-0000-4000-8000-000000000000', 'alice')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
