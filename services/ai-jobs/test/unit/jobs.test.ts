import fc from 'fast-check';
import {
  describeError,
  IdempotencyKeyReusedError,
  NotFoundError,
  NotFoundYetError,
  TooManyRequestsError,
} from '@offload/errors';
import { statusOf } from '@offload/middleware';
import { jobRequested, type CreateJobBody, type Job, type JobRequested } from '@offload/messages';
import { idempotencyPk } from '../../src/adapters/dynamoControls';
import {
  BudgetExceededError,
  getJobFor,
  JobDeadlineError,
  jobBudgetMs,
  LlmFailedError,
  processJob,
  recordResult,
  NOT_STARTED_FAILURE,
  RESULT_MAX_BYTES,
  STALE_JOB_FAILURE,
  submitJob,
  sweepStaleJobs,
} from '../../src/domain/jobs';
import {
  fixedClock,
  MemoryControls,
  MemoryJobStore,
  MemoryPublisher,
  MemoryResults,
  ScriptedLlm,
} from '../support/memory';

const alice = { userId: 'alice', tier: 'free' as const };
const bob = { userId: 'bob', tier: 'paid' as const };
const body: CreateJobBody = { type: 'discussion', config: { topic: 'Tabs or spaces', agents: 2, rounds: 2 } };

function setup(rateLimitPerMinute = 100, llmCallsPerHour = 1000) {
  let n = 0;
  const tier = { requestsPerMinute: rateLimitPerMinute, llmCallsPerHour };
  const deps = {
    store: new MemoryJobStore(),
    controls: new MemoryControls(),
    publisher: new MemoryPublisher(),
    clock: fixedClock(),
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    limits: {
      free: tier,
      paid: { requestsPerMinute: rateLimitPerMinute * 10, llmCallsPerHour: llmCallsPerHour * 10 },
    },
  };
  return deps;
}

describe('submitJob', () => {
  it('records the job as queued and publishes a v1 request with the caller’s priority', async () => {
    const deps = setup();
    const { job, replayed } = await submitJob(deps, bob, body, undefined, 'trace-1');
    expect(replayed).toBe(false);
    expect(job).toMatchObject({ owner: 'bob', status: 'queued', progress: 0, priority: 'high' });
    expect(jobRequested.parse(deps.publisher.published[0])).toMatchObject({
      data: { job_id: job.job_id, priority: 'high', job: body },
      metadata: { traceId: 'trace-1' },
    });
  });

  it('returns the first job for a replayed key and body, publishing nothing more', async () => {
    const deps = setup();
    const first = await submitJob(deps, alice, body, 'key-1');
    const again = await submitJob(deps, alice, { ...body, config: { ...body.config } }, 'key-1');
    expect(again).toEqual({ job: first.job, replayed: true });
    expect(deps.publisher.published).toHaveLength(1);
    expect(deps.store.jobs.size).toBe(1);
  });

  it('refuses the same key with another body (422) but lets another caller use it', async () => {
    const deps = setup();
    await submitJob(deps, alice, body, 'key-1');
    await expect(
      submitJob(deps, alice, { type: 'completion', config: { prompt: 'x' } }, 'key-1'),
    ).rejects.toThrow(IdempotencyKeyReusedError);
    await expect(submitJob(deps, bob, body, 'key-1')).resolves.toMatchObject({ replayed: false });
  });

  it('rate limits each caller per minute with a retry hint, leaving other callers alone', async () => {
    const deps = setup(2);
    await submitJob(deps, alice, body);
    await submitJob(deps, alice, body);
    const error = await submitJob(deps, alice, body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect((error as TooManyRequestsError).retryAfterSeconds).toBe(30);
    await expect(submitJob(deps, bob, body)).resolves.toBeDefined();
    expect(deps.store.jobs.size).toBe(3);
  });

  it('undoes the record, the charge and the key when publishing fails, so a retry can succeed', async () => {
    const deps = setup();
    deps.publisher.failNext = true;
    await expect(submitJob(deps, alice, body, 'key-1')).rejects.toThrow('topic unavailable');
    expect(deps.store.jobs.size).toBe(0);
    expect(deps.controls.spent('alice', deps.clock.now())).toBe(0);
    await expect(submitJob(deps, alice, body, 'key-1')).resolves.toMatchObject({ replayed: false });
  });

  it('releases the key and the charge when recording the job fails, so the retry is not a 409', async () => {
    const deps = setup();
    deps.store.failNextCreate = true;
    await expect(submitJob(deps, alice, body, 'key-1')).rejects.toThrow('table unavailable');
    expect(deps.controls.claims.size).toBe(0);
    expect(deps.controls.spent('alice', deps.clock.now())).toBe(0);
    expect(deps.publisher.published).toHaveLength(0);
    await expect(submitJob(deps, alice, body, 'key-1')).resolves.toMatchObject({ replayed: false });
  });

  it('charges each job its worst-case LLM calls and refuses one the hour cannot cover, recording nothing', async () => {
    // 2 agents x 2 rounds + a summary = 5 calls a job; the free tier has 12 an hour here.
    const deps = setup(100, 12);
    await submitJob(deps, alice, body);
    await submitJob(deps, alice, body);
    const error = await submitJob(deps, alice, body, 'key-2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toMatchObject({ code: 'budget_exceeded', retryAfterSeconds: 3600 - 30 });
    expect(statusOf(error as BudgetExceededError)).toBe(429);
    expect(deps.store.jobs.size).toBe(2);
    expect(deps.publisher.published).toHaveLength(2);
    expect(deps.controls.claims.size).toBe(0);
    expect(deps.controls.spent('alice', deps.clock.now())).toBe(10);
    // A cheaper job still fits, and the paid tier has its own, larger budget.
    await expect(
      submitJob(deps, alice, { type: 'completion', config: { prompt: 'p' } }),
    ).resolves.toBeDefined();
    await expect(submitJob(deps, bob, body)).resolves.toBeDefined();
  });

  it('refuses a job whose worst case alone is over the tier budget', async () => {
    const deps = setup(100, 200);
    const biggest: CreateJobBody = { type: 'panel', config: { topic: 't', agents: 20, rounds: 10 } };
    await expect(submitJob(deps, alice, biggest)).rejects.toThrow(BudgetExceededError);
    await expect(submitJob(deps, bob, biggest)).resolves.toBeDefined();
    expect(deps.controls.spent('bob', deps.clock.now())).toBe(201);
  });

  it('rate limits by tier: the paid tier has its own per-minute limit', async () => {
    const deps = setup(1);
    await submitJob(deps, alice, body);
    await expect(submitJob(deps, alice, body)).rejects.toMatchObject({ code: 'rate_limited' });
    for (let i = 0; i < 10; i++) await submitJob(deps, bob, body);
    await expect(submitJob(deps, bob, body)).rejects.toThrow(TooManyRequestsError);
  });
});

describe('idempotencyPk', () => {
  it('never gives two different owner/key pairs the same key, whatever characters they hold', () => {
    expect(idempotencyPk('a#b', 'c')).not.toBe(idempotencyPk('a', 'b#c'));
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (o1, k1, o2, k2) => {
        fc.pre(o1 !== o2 || k1 !== k2);
        expect(idempotencyPk(o1, k1)).not.toBe(idempotencyPk(o2, k2));
      }),
    );
  });
});

describe('getJobFor', () => {
  it('shows the owner their job without the owner field, and nobody else', async () => {
    const deps = setup();
    const { job } = await submitJob(deps, alice, body);
    const view = await getJobFor(deps.store, job.job_id, alice);
    expect(view).toMatchObject({ job_id: job.job_id, status: 'queued', progress: 0 });
    expect(view).not.toHaveProperty('owner');
    await expect(getJobFor(deps.store, job.job_id, bob)).rejects.toThrow(NotFoundError);
    await expect(getJobFor(deps.store, 'missing', alice)).rejects.toThrow(NotFoundError);
  });
});

describe('processJob and recordResult', () => {
  async function requested(deps: ReturnType<typeof setup>, job: CreateJobBody = body): Promise<JobRequested> {
    await submitJob(deps, alice, job);
    return deps.publisher.published.at(-1)!;
  }

  it('runs the job with rising progress and sends a succeeded result the recorder writes once', async () => {
    const deps = setup();
    const message = await requested(deps);
    const results = new MemoryResults();
    const llm = new ScriptedLlm();
    expect(
      await processJob({ store: deps.store, llm, results, clock: deps.clock }, message, {
        isLastAttempt: false,
      }),
    ).toEqual({ outcome: 'sent' });
    expect(deps.store.progressWrites).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(results.sent[0]?.data).toMatchObject({ status: 'succeeded', job_id: message.data.job_id });

    expect(await recordResult(deps.store, results.sent[0]!, deps.clock)).toBe(true);
    expect(await recordResult(deps.store, results.sent[0]!, deps.clock)).toBe(false);
    expect(await deps.store.get(message.data.job_id)).toMatchObject({ status: 'succeeded', progress: 1 });
  });

  it("passes the request's traceId on to its result, succeeded or failed", async () => {
    const deps = setup();
    await submitJob(deps, alice, body, undefined, 'trace-7');
    const ok = deps.publisher.published.at(-1)!;
    await submitJob(deps, alice, { type: 'completion', config: { prompt: 'hi' } }, undefined, 'trace-8');
    const failing = deps.publisher.published.at(-1)!;
    const results = new MemoryResults();
    await processJob({ store: deps.store, llm: new ScriptedLlm(), results, clock: deps.clock }, ok, {
      isLastAttempt: false,
    });
    await expect(
      processJob({ store: deps.store, llm: new ScriptedLlm(5), results, clock: deps.clock }, failing, {
        isLastAttempt: true,
      }),
    ).rejects.toThrow(LlmFailedError);
    expect(results.sent.map((result) => [result.data.status, result.metadata.traceId])).toEqual([
      ['succeeded', 'trace-7'],
      ['failed', 'trace-8'],
    ]);
  });

  it('does not run a finished job again when its request is redelivered', async () => {
    const deps = setup();
    const message = await requested(deps);
    const results = new MemoryResults();
    await processJob({ store: deps.store, llm: new ScriptedLlm(), results, clock: deps.clock }, message, {
      isLastAttempt: false,
    });
    await recordResult(deps.store, results.sent[0]!, deps.clock);
    const llm = new ScriptedLlm();
    expect(
      await processJob({ store: deps.store, llm, results, clock: deps.clock }, message, {
        isLastAttempt: false,
      }),
    ).toEqual({ outcome: 'already-finished' });
    expect(llm.calls).toHaveLength(0);
  });

  it('never lets a late failed result overwrite a succeeded job', async () => {
    const deps = setup();
    const message = await requested(deps);
    const id = message.data.job_id;
    const at = '2026-11-24T12:01:00.000Z';
    await recordResult(
      deps.store,
      {
        ...message,
        type: 'job.result',
        data: { job_id: id, status: 'succeeded', result: 1, finished_at: at },
      },
      deps.clock,
    );
    await recordResult(
      deps.store,
      {
        ...message,
        version: '2',
        type: 'job.result',
        data: { job_id: id, status: 'failed', error: { code: 'late', message: 'late' }, finished_at: at },
      },
      deps.clock,
    );
    expect(await deps.store.get(id)).toMatchObject({ status: 'succeeded', result: 1 });
  });

  it('rethrows an LLM failure for a retry, and on the last attempt also sends a public failed result', async () => {
    const deps = setup();
    const message = await requested(deps, { type: 'completion', config: { prompt: 'hi' } });
    const results = new MemoryResults();
    const llm = new ScriptedLlm(5);
    const run = (isLastAttempt: boolean) =>
      processJob({ store: deps.store, llm, results, clock: deps.clock }, message, { isLastAttempt });
    // The chain (for the logs and the DLQ reason) keeps the provider's error; the result does not.
    const error = await run(false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmFailedError);
    expect(describeError(error)).toMatch(/503 upstream overloaded/);
    expect(results.sent).toHaveLength(0);
    await expect(run(true)).rejects.toThrow(LlmFailedError);
    expect(results.sent[0]).toMatchObject({
      version: '2',
      data: { status: 'failed', error: { code: 'llm_failed', message: expect.any(String) } },
    });
    expect(JSON.stringify(results.sent[0])).not.toMatch(/503|upstream/);
  });

  it('stops a job that outruns its budget and, on the last attempt, ends it failed with the reason', async () => {
    const deps = setup();
    const message = await requested(deps, { type: 'completion', config: { prompt: 'slow' } });
    const results = new MemoryResults();
    const stuck = { complete: () => new Promise<string>(() => undefined) };
    await expect(
      processJob({ store: deps.store, llm: stuck, results, clock: deps.clock }, message, {
        isLastAttempt: true,
        budgetMs: 20,
      }),
    ).rejects.toBeInstanceOf(JobDeadlineError);
    expect(results.sent[0]?.data).toMatchObject({
      status: 'failed',
      error: { code: 'job_timeout', message: expect.stringMatching(/20 ms budget/) },
    });
  });

  it('ends the job failed with result_too_large when the result cannot fit a queue message', async () => {
    const deps = setup();
    const message = await requested(deps, { type: 'completion', config: { prompt: 'huge' } });
    const results = new MemoryResults();
    const huge = { complete: async () => 'x'.repeat(RESULT_MAX_BYTES) };
    const report = await processJob({ store: deps.store, llm: huge, results, clock: deps.clock }, message, {
      isLastAttempt: false,
    });
    expect(report).toMatchObject({ outcome: 'undeliverable', failure: { code: 'result_too_large' } });
    expect(results.sent).toHaveLength(1);
    expect(results.sent[0]?.data).toMatchObject({ status: 'failed', error: { code: 'result_too_large' } });
    expect(Buffer.byteLength(JSON.stringify(results.sent[0]))).toBeLessThan(2048);
    await recordResult(deps.store, results.sent[0]!, deps.clock);
    expect(await deps.store.get(message.data.job_id)).toMatchObject({
      status: 'failed',
      error: { code: 'result_too_large' },
    });
  });

  it('ends the job failed with result_undeliverable when the queue rejects the result, never leaving it processing', async () => {
    const deps = setup();
    const message = await requested(deps, { type: 'completion', config: { prompt: 'one emoji' } });
    const results = new MemoryResults();
    results.rejects = (m) => m.data.status === 'succeeded';
    const report = await processJob(
      { store: deps.store, llm: new ScriptedLlm(), results, clock: deps.clock },
      message,
      { isLastAttempt: false },
    );
    expect(report).toMatchObject({ outcome: 'undeliverable', failure: { code: 'result_undeliverable' } });
    expect(report.reason).toMatch(/InvalidMessageContents/);
    expect(results.sent.map((m) => m.data)).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: expect.objectContaining({ code: 'result_undeliverable' }),
      }),
    ]);
  });

  it('rethrows for a retry when even the failed result cannot be sent', async () => {
    const deps = setup();
    const message = await requested(deps, { type: 'completion', config: { prompt: 'p' } });
    const results = new MemoryResults();
    results.rejects = () => true;
    await expect(
      processJob({ store: deps.store, llm: new ScriptedLlm(), results, clock: deps.clock }, message, {
        isLastAttempt: false,
      }),
    ).rejects.toThrow('InvalidMessageContents');
  });

  it('records a v1 failed result (internal text) as the generic internal failure', async () => {
    const deps = setup();
    const message = await requested(deps);
    const id = message.data.job_id;
    await recordResult(
      deps.store,
      {
        version: '1',
        type: 'job.result',
        id,
        data: {
          job_id: id,
          status: 'failed',
          error: 'Error: arn:aws:secret',
          finished_at: '2026-11-24T12:01:00.000Z',
        },
        metadata: { source: 'test' },
      },
      deps.clock,
    );
    expect((await deps.store.get(id))?.error).toEqual({
      code: 'internal_error',
      message: expect.any(String),
    });
  });

  it('leaves 10% of the remaining time, between 1 and 10 s, for the result', () => {
    expect(jobBudgetMs(5000)).toBe(4000);
    expect(jobBudgetMs(30_000)).toBe(27_000);
    expect(jobBudgetMs(900_000)).toBe(890_000);
  });

  it('asks for a retry when the request arrives before its job record', async () => {
    const deps = setup();
    const message = await requested(deps);
    deps.store.jobs.clear();
    await expect(
      processJob(
        { store: deps.store, llm: new ScriptedLlm(), results: new MemoryResults(), clock: deps.clock },
        message,
        {
          isLastAttempt: false,
        },
      ),
    ).rejects.toThrow(NotFoundYetError);
  });
});

describe('sweepStaleJobs', () => {
  const job = (id: number, status: Job['status'], updated_at: string, republished?: number): Job => ({
    job_id: `00000000-0000-4000-8000-00000000000${id}`,
    owner: 'alice',
    type: 'completion',
    config: { prompt: 'p' },
    priority: 'normal',
    status,
    progress: 0,
    attempts: status === 'queued' ? 0 : 3,
    ...(republished !== undefined && { republished }),
    created_at: '2026-11-24T08:00:00.000Z',
    updated_at,
  });
  const options = { staleAfterMs: 3 * 3600_000, queuedAfterMs: 3600_000, maxRepublishes: 2 };

  it('fails processing jobs untouched for longer than the limit, and leaves every other job alone', async () => {
    const store = new MemoryJobStore();
    const publisher = new MemoryPublisher();
    await store.create(job(1, 'processing', '2026-11-24T08:00:00.000Z')); // 4 h old: stale
    await store.create(job(2, 'processing', '2026-11-24T11:59:00.000Z')); // a minute old: running
    await store.create(job(3, 'queued', '2026-11-24T11:58:00.000Z')); // waiting in the queue
    await store.create(job(4, 'succeeded', '2026-11-24T08:00:00.000Z'));

    const report = await sweepStaleJobs({ store, clock: fixedClock(), publisher }, options);
    expect(report).toEqual({ found: 1, failed: 1, republished: 0 });
    const statuses = [...store.jobs.values()].map((j) => j.status);
    expect(statuses).toEqual(['failed', 'processing', 'queued', 'succeeded']);
    expect(store.jobs.get(job(1, 'failed', '').job_id)).toMatchObject({
      error: STALE_JOB_FAILURE,
      completed_at: '2026-11-24T12:00:30.000Z',
    });
    expect(publisher.published).toHaveLength(0);
  });

  it('publishes a job stuck queued again, then fails it with a public reason after the last try', async () => {
    const store = new MemoryJobStore();
    const publisher = new MemoryPublisher();
    const stuck = job(5, 'queued', '2026-11-24T10:00:00.000Z');
    await store.create(stuck);

    const hours = (h: number) =>
      fixedClock(new Date(Date.parse('2026-11-24T12:00:30Z') + h * 3600_000).toISOString());
    expect(await sweepStaleJobs({ store, clock: hours(0), publisher }, options)).toEqual({
      found: 1,
      failed: 0,
      republished: 1,
    });
    expect(jobRequested.parse(publisher.published[0])).toMatchObject({
      data: {
        job_id: stuck.job_id,
        job: { type: 'completion', config: { prompt: 'p' } },
        priority: 'normal',
      },
      metadata: { source: 'ai-jobs.sweeper' },
    });
    // Just republished: not stale again until another full interval has passed.
    expect((await sweepStaleJobs({ store, clock: hours(0.5), publisher }, options)).found).toBe(0);
    expect((await sweepStaleJobs({ store, clock: hours(1.5), publisher }, options)).republished).toBe(1);
    expect(await sweepStaleJobs({ store, clock: hours(3), publisher }, options)).toEqual({
      found: 1,
      failed: 1,
      republished: 0,
    });
    expect(publisher.published).toHaveLength(2);
    expect(store.jobs.get(stuck.job_id)).toMatchObject({ status: 'failed', error: NOT_STARTED_FAILURE });
  });
});
