import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  IdempotencyKeyReusedError,
  TooManyRequestsError,
  ValidationError,
} from '@offload/errors';
import { statusOf } from '@offload/middleware';
import { createBatchJobBodySchema } from '@offload/messages';
import { newBatchJob, ProviderRejectedError } from '../../src/domain/batchJobs';
import { BudgetExceededError } from '../../src/domain/budget';
import { pollPass } from '../../src/domain/poller';
import {
  submitBatchJob,
  submitItem,
  submitItems,
  type CreateDeps,
  type SubmitDeps,
} from '../../src/domain/submit';
import { memoryControls, memoryStore, scriptedProvider } from '../support/memory';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const options = { claimStaleMs: 120_000, defaultMaxTokens: 256 };
const pollOptions = { ...options, maxItemsPerJob: 50, concurrency: 20, cleanupsPerPass: 50 };
const bodyOf = (n: number, extra: Record<string, unknown> = {}) =>
  createBatchJobBodySchema.parse({
    ...extra,
    items: Array.from({ length: n }, (_, i) => ({ input: `item ${i}` })),
  });

function world() {
  const memory = memoryStore();
  const scripted = scriptedProvider([{ status: 'in_progress' }]);
  const warnings: Record<string, unknown>[] = [];
  let clock = NOW.getTime();
  const deps: SubmitDeps = {
    store: memory.store,
    provider: scripted.provider,
    clock: { now: () => new Date(clock) },
    hasTime: () => true,
    newToken: randomUUID,
    warn: (_message, fields) => warnings.push(fields),
  };
  return { ...memory, ...scripted, deps, warnings, advance: (ms: number) => (clock += ms) };
}

async function recorded(w: ReturnType<typeof world>, n: number) {
  const { job, items } = newBatchJob(bodyOf(n), 'alice', randomUUID(), NOW.toISOString(), 128);
  await w.store.createJob(job, items);
  return { job, items };
}

describe('claim before submit', () => {
  it('submits each item exactly once when the POST handler and two poller passes race', async () => {
    const w = world();
    const { job, items } = await recorded(w, 30);
    await Promise.all([
      submitItems(w.deps, options, job, items, 10),
      pollPass(w.deps, pollOptions),
      pollPass(w.deps, pollOptions),
    ]);
    expect(w.submitted).toHaveLength(30);
    expect(w.batchesCreated()).toBe(30);
    expect(new Set(w.submitted.map((r) => r.itemId)).size).toBe(30);
    expect(await w.store.getJob(job.job_id)).toMatchObject({ submitted_items: 30, status: 'running' });
  });

  it('leaves an item another submitter holds alone, calling the provider for nothing', async () => {
    const w = world();
    const { job, items } = await recorded(w, 1);
    const held = await w.store.claimItem(items[0]!, {
      token: 'other',
      now: NOW.toISOString(),
      staleBefore: new Date(NOW.getTime() - 1).toISOString(),
      submitKey: 'key-1',
    });
    expect(held).toMatchObject({ status: 'submitting', submit_key: 'key-1' });
    expect(await submitItem(w.deps, options, job, items[0]!)).toBe('held');
    expect(w.submitted).toEqual([]);
  });

  it('takes over a stale claim with the same submit key, so the provider answers the batch already made', async () => {
    const w = world();
    const { job, items } = await recorded(w, 1);
    // A submitter claimed the item, created the batch and crashed before recording its id.
    const crashed = await w.store.claimItem(items[0]!, {
      token: 'crashed',
      now: NOW.toISOString(),
      staleBefore: NOW.toISOString(),
      submitKey: 'key-1',
    });
    const orphan = await w.provider.submit({
      jobId: job.job_id,
      itemId: '0001',
      input: 'item 0',
      maxTokens: 128,
      submitKey: crashed!.submit_key!,
    });
    w.advance(60_000);
    expect(await pollPass(w.deps, pollOptions)).toMatchObject({ itemsUpdated: 0 });
    w.advance(61_000);
    expect(await pollPass(w.deps, pollOptions)).toMatchObject({ itemsUpdated: 1, errors: 0 });
    expect(w.batchesCreated()).toBe(1);
    const [item] = await w.store.allItems(job.job_id);
    expect(item).toMatchObject({ status: 'validating', provider_task_id: orphan });
  });

  it('keeps the submit key after an ambiguous failure and renews it after a definite rejection', async () => {
    const w = world();
    const { job, items } = await recorded(w, 1);
    w.failSubmitFor.set('0001', new Error('socket hang up'));
    expect(await submitItem(w.deps, options, job, items[0]!)).toBe('error');
    const [afterTimeout] = await w.store.allItems(job.job_id);
    expect(afterTimeout).toMatchObject({ status: 'queued' });
    const kept = afterTimeout!.submit_key;
    expect(kept).toEqual(expect.any(String));

    w.failSubmitFor.set('0001', new ProviderRejectedError('refused'));
    expect(await submitItem(w.deps, options, job, afterTimeout!)).toBe('error');
    const [afterRejection] = await w.store.allItems(job.job_id);
    expect(afterRejection).toMatchObject({ status: 'queued' });
    expect(afterRejection!.submit_key).toBeUndefined();

    w.failSubmitFor.clear();
    expect(await submitItem(w.deps, options, job, afterRejection!)).toBe('submitted');
    expect(w.submitted[0]!.submitKey).not.toBe(kept);
    expect(w.warnings).toHaveLength(2);
  });

  it('sends the job’s max_tokens with every item', async () => {
    const w = world();
    const { job, items } = await recorded(w, 3);
    await submitItems(w.deps, options, job, items, 3);
    expect(w.submitted.map((r) => r.maxTokens)).toEqual([128, 128, 128]);
  });
});

describe('submitBatchJob', () => {
  const budgets = {
    free: { itemsPerHour: 10, itemsPerDay: 15 },
    paid: { itemsPerHour: 1000, itemsPerDay: 1000 },
  };
  const alice = { userId: 'alice', tier: 'free' as const };

  function setup(
    rate: { allowed: true } | { allowed: false; retryAfterSeconds: number } = { allowed: true },
  ) {
    const w = world();
    const controls = memoryControls(rate);
    const ids: string[] = [];
    const deps: CreateDeps = {
      ...w.deps,
      controls: controls.controls,
      budget: controls.budget,
      budgets,
      rateLimitPerMinute: 10,
      submitConcurrency: 4,
      maxTokens: 512,
      claimStaleMs: 120_000,
      newId: () => {
        const id = randomUUID();
        ids.push(id);
        return id;
      },
    };
    return { ...w, ...controls, deps, ids };
  }

  it('records the job with the max_tokens ceiling and submits every item', async () => {
    const s = setup();
    const { job, replayed } = await submitBatchJob(s.deps, { caller: alice, body: bodyOf(3) });
    expect(replayed).toBe(false);
    expect(job).toMatchObject({ status: 'running', total_items: 3, submitted_items: 3, max_tokens: 512 });
    expect(s.submitted.map((r) => r.maxTokens)).toEqual([512, 512, 512]);
  });

  it('refuses a max_tokens above the ceiling before recording or charging anything', async () => {
    const s = setup();
    const attempt = submitBatchJob(s.deps, { caller: alice, body: bodyOf(1, { max_tokens: 513 }) });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    expect(s.usage.size).toBe(0);
    expect(s.submitted).toEqual([]);
  });

  it('replays the first job for the same key and body, calling the provider no more', async () => {
    const s = setup();
    const idempotency = { key: 'k1', bodyHash: 'h1' };
    const first = await submitBatchJob(s.deps, { caller: alice, body: bodyOf(2), idempotency });
    const again = await submitBatchJob(s.deps, { caller: alice, body: bodyOf(2), idempotency });
    expect(again).toEqual({ job: first.job, replayed: true });
    expect(s.submitted).toHaveLength(2);
    expect(s.usedIn('alice', { day: '2026-11-26', hour: 10 })).toEqual({ day: 2, hour: 2 });
  });

  it('answers 422 idempotency_key_reused for the same key with another body', async () => {
    const s = setup();
    await submitBatchJob(s.deps, {
      caller: alice,
      body: bodyOf(1),
      idempotency: { key: 'k', bodyHash: 'a' },
    });
    const reuse = submitBatchJob(s.deps, {
      caller: alice,
      body: bodyOf(2),
      idempotency: { key: 'k', bodyHash: 'b' },
    });
    await expect(reuse).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(reuse).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    await expect(reuse.catch(statusOf)).resolves.toBe(422);
  });

  it('keeps keys apart per caller', async () => {
    const s = setup();
    const idempotency = { key: 'k', bodyHash: 'h' };
    const a = await submitBatchJob(s.deps, { caller: alice, body: bodyOf(1), idempotency });
    const b = await submitBatchJob(s.deps, {
      caller: { userId: 'bob', tier: 'paid' },
      body: bodyOf(1),
      idempotency,
    });
    expect(b.replayed).toBe(false);
    expect(b.job.job_id).not.toBe(a.job.job_id);
  });

  it('answers 409 while the first request with the key has not recorded its job yet', async () => {
    const s = setup();
    await s.controls.claimIdempotencyKey('alice', 'k', { jobId: randomUUID(), bodyHash: 'h' });
    const attempt = submitBatchJob(s.deps, {
      caller: alice,
      body: bodyOf(1),
      idempotency: { key: 'k', bodyHash: 'h' },
    });
    await expect(attempt).rejects.toMatchObject({ code: 'in_progress' });
    await expect(attempt.catch(statusOf)).resolves.toBe(409);
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses an over-budget caller with 429 budget_exceeded before recording or calling anything, and frees the key', async () => {
    const s = setup();
    await submitBatchJob(s.deps, { caller: alice, body: bodyOf(8) });
    const calls = s.submitted.length;
    const idempotency = { key: 'k', bodyHash: 'h' };
    const over = submitBatchJob(s.deps, { caller: alice, body: bodyOf(3), idempotency });
    await expect(over).rejects.toBeInstanceOf(BudgetExceededError);
    // The hour window (10) blocks: Retry-After runs to the next hour.
    await expect(over.catch(statusOf)).resolves.toBe(429);
    await expect(over).rejects.toMatchObject({
      code: 'budget_exceeded',
      retryAfterSeconds: 3600,
    });
    expect(s.submitted).toHaveLength(calls);
    expect(await s.store.getJob(s.ids[1]!)).toBeUndefined();
    expect(s.keys.size).toBe(0);
    // A paid caller's budget is their own.
    await expect(
      submitBatchJob(s.deps, { caller: { userId: 'bob', tier: 'paid' }, body: bodyOf(3) }),
    ).resolves.toMatchObject({ replayed: false });
  });

  it('refuses a job larger than a whole window of the tier as invalid', async () => {
    const s = setup();
    await expect(submitBatchJob(s.deps, { caller: alice, body: bodyOf(11) })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('refuses over the rate limit with 429 rate_limited and frees the key', async () => {
    const s = setup({ allowed: false, retryAfterSeconds: 12 });
    const attempt = submitBatchJob(s.deps, {
      caller: alice,
      body: bodyOf(1),
      idempotency: { key: 'k', bodyHash: 'h' },
    });
    await expect(attempt).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(attempt).rejects.toMatchObject({ code: 'rate_limited', retryAfterSeconds: 12 });
    expect(s.keys.size).toBe(0);
    expect(s.usage.size).toBe(0);
  });

  it('refunds the budget and frees the key when recording the job fails', async () => {
    const s = setup();
    s.deps.store = {
      ...s.deps.store,
      createJob: async () => Promise.reject(new Error('DynamoDB unavailable')),
    };
    const attempt = submitBatchJob(s.deps, {
      caller: alice,
      body: bodyOf(4),
      idempotency: { key: 'k', bodyHash: 'h' },
    });
    await expect(attempt).rejects.toThrow('DynamoDB unavailable');
    expect(s.keys.size).toBe(0);
    expect(s.usedIn('alice', { day: '2026-11-26', hour: 10 })).toEqual({ day: 0, hour: 0 });
    expect(s.submitted).toEqual([]);
  });
});
