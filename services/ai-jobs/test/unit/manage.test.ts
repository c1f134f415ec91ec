import { NotFoundError, ValidationError } from '@offload/errors';
import {
  createJobBodySchema,
  DEFAULT_ROUNDS,
  liveEvent,
  type Job,
  type JobRequested,
  type LiveEvent,
} from '@offload/messages';
import type { ChatMessage } from '@offload/llm';
import { processJob, recordResult } from '../../src/domain/jobs';
import { cancelJobFor, JobFinishedError, listJobsFor } from '../../src/domain/manage';
import { fixedClock, MemoryJobStore, MemoryResults, ScriptedLlm } from '../support/memory';

const alice = { userId: 'alice', tier: 'free' as const };
const carol = { userId: 'carol', tier: 'free' as const };
const clock = fixedClock();
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function job(n: number, owner = 'alice', status: Job['status'] = 'queued'): Job {
  const at = new Date(Date.UTC(2026, 10, 24, 12, 0, n)).toISOString();
  return {
    job_id: id(n),
    owner,
    type: 'discussion',
    config: { topic: 't', agents: 2, rounds: 2 },
    priority: 'normal',
    status,
    progress: 0,
    attempts: 0,
    created_at: at,
    updated_at: at,
  };
}

async function storeWith(...jobs: Job[]) {
  const store = new MemoryJobStore();
  for (const j of jobs) await store.create(j);
  return store;
}

describe('POST /jobs body', () => {
  it('accepts a multi-agent job without rounds and defaults them', () => {
    const parsed = createJobBodySchema.parse({ type: 'simulation', config: { agents: 5, topic: 'x' } });
    expect(parsed).toEqual({ type: 'simulation', config: { agents: 5, topic: 'x', rounds: DEFAULT_ROUNDS } });
    expect(DEFAULT_ROUNDS).toBe(3);
  });
});

describe('listJobsFor', () => {
  it('pages through only the caller’s jobs, newest first, with an opaque cursor', async () => {
    const store = await storeWith(job(1), job(2, 'carol'), job(3), job(4), job(5));
    const first = await listJobsFor(store, alice, { limit: 2 });
    expect(first.jobs.map((j) => j.job_id)).toEqual([id(5), id(4)]);
    expect(first.jobs[0]).not.toHaveProperty('owner');
    expect(first.next_cursor).toEqual(expect.any(String));
    expect(first.next_cursor).not.toContain('alice');
    const second = await listJobsFor(store, alice, { limit: 2, cursor: first.next_cursor! });
    expect(second.jobs.map((j) => j.job_id)).toEqual([id(3), id(1)]);
    expect(second.next_cursor).toBeNull();
    expect((await listJobsFor(store, carol, { limit: 20 })).jobs.map((j) => j.job_id)).toEqual([id(2)]);
  });

  it('filters by status', async () => {
    const store = await storeWith(job(1), job(2, 'alice', 'succeeded'), job(3));
    const page = await listJobsFor(store, alice, { limit: 20, status: 'succeeded' });
    expect(page.jobs.map((j) => j.job_id)).toEqual([id(2)]);
  });

  it('rejects a cursor it did not hand out, naming the field', async () => {
    const store = await storeWith(job(1));
    for (const cursor of ['not a cursor', Buffer.from('{"x":1}').toString('base64url'), 'e30']) {
      const error = await listJobsFor(store, alice, { limit: 20, cursor }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    }
  });
});

describe('cancelJobFor', () => {
  it('cancels a queued job at once, and the processor then skips it without an LLM call', async () => {
    const store = await storeWith(job(1));
    const outcome = await cancelJobFor(store, id(1), alice, clock);
    expect(outcome).toMatchObject({ state: 'cancelled', job: { job_id: id(1), status: 'cancelled' } });
    const llm = new ScriptedLlm();
    const message: JobRequested = {
      version: '1',
      type: 'job.requested',
      id: id(1),
      data: { job_id: id(1), job: { type: 'completion', config: { prompt: 'hi' } }, priority: 'normal' },
      metadata: { source: 'test' },
    };
    const results = new MemoryResults();
    expect(await processJob({ store, llm, results, clock }, message, { isLastAttempt: false })).toEqual({
      outcome: 'already-finished',
    });
    expect(llm.calls).toHaveLength(0);
    expect(results.sent).toHaveLength(0);
  });

  it('flags a processing job, answers it still processing, and 409s an ended one', async () => {
    const store = await storeWith(job(1, 'alice', 'processing'), job(2, 'alice', 'failed'));
    expect(await cancelJobFor(store, id(1), alice, clock)).toMatchObject({
      state: 'cancelling',
      job: { status: 'processing', cancel_requested: true },
    });
    await expect(cancelJobFor(store, id(2), alice, clock)).rejects.toBeInstanceOf(JobFinishedError);
    await expect(cancelJobFor(store, id(1), alice, clock)).resolves.toMatchObject({ state: 'cancelling' });
  });

  it('treats another caller’s job like a missing one', async () => {
    const store = await storeWith(job(1));
    await expect(cancelJobFor(store, id(1), carol, clock)).rejects.toBeInstanceOf(NotFoundError);
    await expect(cancelJobFor(store, id(9), alice, clock)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.get(id(1)))?.status).toBe('queued');
  });
});

/** Job 1's request message, for a discussion of `rounds` rounds between two agents. */
const requested = (rounds: number): JobRequested => ({
  version: '1',
  type: 'job.requested',
  id: id(1),
  data: {
    job_id: id(1),
    job: { type: 'discussion', config: { topic: 't', agents: 2, rounds } },
    priority: 'normal',
  },
  metadata: { source: 'test' },
});

describe('a cancel while the job runs', () => {
  const message = requested(3);

  it('stops the processor before its next LLM step and ends the job cancelled, sending no result', async () => {
    const store = await storeWith(job(1));
    const results = new MemoryResults();
    // The owner cancels while the second call is running.
    const llm = {
      calls: [] as ChatMessage[][],
      async complete(messages: ChatMessage[]) {
        this.calls.push(messages);
        if (this.calls.length === 2) await cancelJobFor(store, id(1), alice, clock);
        return `reply ${this.calls.length}`;
      },
    };
    expect(await processJob({ store, llm, results, clock }, message, { isLastAttempt: false })).toEqual({
      outcome: 'cancelled',
    });
    expect(llm.calls).toHaveLength(2);
    expect(results.sent).toHaveLength(0);
    expect(await store.get(id(1))).toMatchObject({ status: 'cancelled', cancel_requested: true });
  });

  it('ends cancelled when the result of the last step arrives after the cancel', async () => {
    const store = await storeWith(job(1, 'alice', 'processing'));
    await cancelJobFor(store, id(1), alice, clock);
    const written = await recordResult(
      store,
      {
        version: '1',
        type: 'job.result',
        id: id(1),
        data: {
          job_id: id(1),
          status: 'succeeded',
          result: { text: 'x' },
          finished_at: clock.now().toISOString(),
        },
        metadata: { source: 'test' },
      },
      clock,
    );
    expect(written).toBe(true);
    expect((await store.get(id(1)))?.status).toBe('cancelled');
  });

  it('ends a retried job that was cancelled meanwhile without calling the LLM', async () => {
    const store = await storeWith(job(1, 'alice', 'processing'));
    await cancelJobFor(store, id(1), alice, clock);
    const llm = new ScriptedLlm();
    expect(
      await processJob({ store, llm, results: new MemoryResults(), clock }, message, {
        isLastAttempt: false,
      }),
    ).toEqual({ outcome: 'cancelled' });
    expect(llm.calls).toHaveLength(0);
  });
});

describe('job.updated events', () => {
  const events = () => {
    const published: LiveEvent[] = [];
    return { published, publish: async (event: LiveEvent) => void published.push(event) };
  };
  const message = requested(1);

  it('go out at the start and after each step but the last, and the recorder publishes the final state', async () => {
    const store = await storeWith(job(1));
    const sink = events();
    const results = new MemoryResults();
    await processJob({ store, llm: new ScriptedLlm(), results, clock, events: sink }, message, {
      isLastAttempt: false,
    });
    expect(sink.published.map((e) => liveEvent.parse(e).data)).toEqual([
      expect.objectContaining({ job_id: id(1), owner: 'alice', status: 'processing', progress: 0 }),
      expect.objectContaining({ status: 'processing', progress: 1 / 3 }),
      expect.objectContaining({ status: 'processing', progress: 2 / 3 }),
    ]);
    await recordResult(store, results.sent[0]!, clock, sink);
    expect(sink.published.at(-1)).toMatchObject({
      type: 'job.updated',
      data: { status: 'succeeded', progress: 1 },
    });
    // A redelivered result writes nothing and publishes nothing.
    await recordResult(store, results.sent[0]!, clock, sink);
    expect(sink.published).toHaveLength(4);
  });

  it('go out for a cancel, queued or processing', async () => {
    const store = await storeWith(job(1), job(2, 'alice', 'processing'));
    const sink = events();
    await cancelJobFor(store, id(1), alice, clock, sink);
    await cancelJobFor(store, id(2), alice, clock, sink);
    expect(sink.published.map((e) => e.data)).toEqual([
      expect.objectContaining({ job_id: id(1), status: 'cancelled' }),
      expect.objectContaining({ job_id: id(2), status: 'processing', cancel_requested: true }),
    ]);
  });
});
