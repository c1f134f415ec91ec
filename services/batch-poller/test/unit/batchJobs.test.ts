import { NotFoundError, PublicFailureError, ValidationError } from '@offload/errors';
import { createBatchJobBodySchema } from '@offload/messages';
import {
  getJobFor,
  itemView,
  jobView,
  maxTokensFor,
  newBatchJob,
  outcomeOf,
  requestFor,
  resolution,
} from '../../src/domain/batchJobs';
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
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW, 512);
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
      max_tokens: 512,
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
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW, 512);
    expect(jobView(job)).not.toHaveProperty('owner');
    expect(jobView(job)).not.toHaveProperty('system');
    expect(itemView(items[0]!)).toEqual({
      item_id: '0001',
      status: 'queued',
      created_at: NOW,
      updated_at: NOW,
    });
    // Submit bookkeeping is internal too.
    const claimed = {
      ...items[0]!,
      status: 'submitting' as const,
      claim_token: 't',
      claimed_at: NOW,
      submit_key: 'k',
      cleanup_files: ['f'],
    };
    expect(Object.keys(itemView(claimed)).sort()).toEqual(['created_at', 'item_id', 'status', 'updated_at']);
  });

  it('answers not found for another owner’s job, as for an unknown one', async () => {
    const { store } = memoryStore();
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW, 512);
    await store.createJob(job, items);
    await expect(getJobFor(store, JOB_ID, 'alice')).resolves.toMatchObject({ job_id: JOB_ID });
    await expect(getJobFor(store, JOB_ID, 'carol')).rejects.toBeInstanceOf(NotFoundError);
    await expect(getJobFor(store, '00000000-0000-4000-8000-000000000000', 'alice')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('max_tokens', () => {
  it('uses the ceiling when the caller gives none, and the caller’s value up to the ceiling', () => {
    expect(maxTokensFor({}, 1024)).toBe(1024);
    expect(maxTokensFor({ max_tokens: 1024 }, 1024)).toBe(1024);
    expect(maxTokensFor({ max_tokens: 10 }, 1024)).toBe(10);
  });

  it('refuses a larger value (never clamps it silently), naming the field', () => {
    expect(() => maxTokensFor({ max_tokens: 1025 }, 1024)).toThrow(ValidationError);
    try {
      maxTokensFor({ max_tokens: 5000 }, 1024);
    } catch (error) {
      expect((error as ValidationError).details).toEqual([
        { field: 'max_tokens', message: 'must be at most 1024' },
      ]);
    }
  });

  it('sends every request with a max_tokens: the job’s, else the default for older jobs', () => {
    const { job, items } = newBatchJob(body, 'alice', JOB_ID, NOW, 512);
    const item = { ...items[0]!, submit_key: 'k' };
    expect(requestFor(job, item, 64)).toMatchObject({ maxTokens: 512, submitKey: 'k', system: 'Be brief' });
    const { max_tokens: _dropped, ...older } = job;
    expect(requestFor(older, item, 64).maxTokens).toBe(64);
  });
});

describe('outcomeOf', () => {
  it('keeps the public failure of the chain and never the provider’s text', () => {
    const failure = new PublicFailureError('expired', 'Not finished in time', {
      cause: new Error('arn:aws:iam::123456789012:role/x AccessDenied'),
    });
    expect(outcomeOf({ status: 'expired', failure, files: ['f'] })).toEqual({
      status: 'expired',
      error: { code: 'expired', message: 'Not finished in time' },
      files: ['f'],
    });
  });

  it('answers the generic internal failure when nothing in the chain was written for clients', () => {
    const outcome = outcomeOf({
      status: 'failed',
      failure: new Error('provider said: key sk-123 invalid'),
      files: [],
    });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
    expect(JSON.stringify(outcome)).not.toContain('sk-123');
  });
});
