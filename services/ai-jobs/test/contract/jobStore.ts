import { randomUUID } from 'node:crypto';
import type { Job } from '@offload/messages';
import { CONDITION_FAILED } from '@offload/testing/conditionFailed';
import type { JobStore } from '../../src/domain/jobs';

const at = (second: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, second)).toISOString();
const FAILURE = { code: 'internal_error', message: 'Something went wrong' };

const newJob = (changes: Partial<Job> = {}): Job => ({
  job_id: randomUUID(),
  owner: 'alice',
  type: 'completion',
  config: { prompt: 'Say hi' },
  priority: 'normal',
  status: 'queued',
  progress: 0,
  attempts: 0,
  created_at: at(0),
  updated_at: at(0),
  ...changes,
});

/** What every JobStore does; `makeStore` answers a store holding no jobs. */
export function describeJobStoreContract(name: string, makeStore: () => Promise<JobStore>) {
  describe(`JobStore contract: ${name}`, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    const created = async (changes: Partial<Job> = {}) => {
      const job = newJob(changes);
      await store.create(job);
      return job;
    };
    const processing = async () => {
      const job = await created();
      return (await store.start(job.job_id, at(1)))!;
    };

    it('creates a job once: a second create of the id is refused as a lost condition', async () => {
      const job = await created();
      await expect(store.create({ ...job, owner: 'mallory' })).rejects.toMatchObject(CONDITION_FAILED);
      expect(await store.get(job.job_id)).toEqual(job);
    });

    it('answers undefined for an unknown id and after a remove', async () => {
      expect(await store.get(randomUUID())).toBeUndefined();
      const job = await created();
      await store.remove(job.job_id);
      expect(await store.get(job.job_id)).toBeUndefined();
    });

    it('hands out copies, never the record it keeps', async () => {
      const job = await created();
      job.config.prompt = 'Changed after create';
      const read = (await store.get(job.job_id))!;
      read.status = 'failed';
      const [stale] = await store.staleQueued(at(5));
      stale!.status = 'failed';
      expect(await store.get(job.job_id)).toMatchObject({ status: 'queued', config: { prompt: 'Say hi' } });
    });

    it('starts from queued and from processing, counting attempts; never unknown or finished jobs', async () => {
      expect(await store.start(randomUUID(), at(1))).toBeUndefined();
      const job = await created();
      expect(await store.start(job.job_id, at(1))).toEqual({
        ...job,
        status: 'processing',
        attempts: 1,
        started_at: at(1),
        updated_at: at(1),
      });
      expect(await store.start(job.job_id, at(2))).toMatchObject({ attempts: 2, started_at: at(1) });
      await store.finish(
        { job_id: job.job_id, status: 'succeeded', result: 'hi', finished_at: at(3) },
        at(3),
      );
      expect(await store.start(job.job_id, at(4))).toBeUndefined();
    });

    it('raises progress only while processing and never lowers it', async () => {
      const queued = await created();
      await store.progress(queued.job_id, 0.5, at(1));
      expect(await store.get(queued.job_id)).toMatchObject({ progress: 0, updated_at: at(0) });
      const job = await processing();
      await store.progress(job.job_id, 0.5, at(2));
      await store.progress(job.job_id, 0.25, at(3));
      expect(await store.get(job.job_id)).toMatchObject({ progress: 0.5, updated_at: at(2) });
    });

    it('finishes once from queued or processing, succeeded with its result or failed with its error', async () => {
      const job = await processing();
      const outcome = { job_id: job.job_id, status: 'succeeded', result: { text: 'hi' }, finished_at: at(2) };
      const written = await store.finish(outcome as never, at(3));
      expect(written).toEqual({
        ...job,
        status: 'succeeded',
        result: { text: 'hi' },
        progress: 1,
        completed_at: at(2),
        updated_at: at(3),
      });
      // What finish answers is what a read then finds.
      expect(await store.get(job.job_id)).toEqual(written);
      const failure = { job_id: job.job_id, status: 'failed' as const, error: FAILURE, finished_at: at(4) };
      expect(await store.finish(failure, at(4))).toBeUndefined();

      const queued = await created();
      expect(await store.finish({ ...failure, job_id: queued.job_id }, at(5))).toMatchObject({
        status: 'failed',
        error: FAILURE,
        progress: 0,
      });
      expect(await store.get(queued.job_id)).toMatchObject({ status: 'failed', error: FAILURE, progress: 0 });
      expect(await store.finish({ ...failure, job_id: randomUUID() }, at(5))).toBeUndefined();
    });

    it('lists stale jobs by status and last write, and no finished ones', async () => {
      const old = await created({ updated_at: at(1) });
      const fresh = await created({ updated_at: at(9) });
      const busy = await processing();
      const done = await created();
      await store.finish({ job_id: done.job_id, status: 'succeeded', result: 1, finished_at: at(2) }, at(2));
      expect((await store.staleQueued(at(5))).map((job) => job.job_id)).toEqual([old.job_id]);
      expect((await store.staleQueued(at(10))).map((job) => job.job_id).sort()).toEqual(
        [old.job_id, fresh.job_id].sort(),
      );
      expect(await store.staleProcessing(at(5))).toEqual([busy]);
      expect(await store.staleProcessing(at(1))).toEqual([]);
    });

    it('counts a republish only on a queued job nothing wrote to since it was seen', async () => {
      const job = await created();
      expect(await store.markRepublished(job, at(1))).toBe(true);
      expect(await store.markRepublished(job, at(2))).toBe(false);
      const seen = (await store.get(job.job_id))!;
      expect(seen).toMatchObject({ republished: 1, updated_at: at(1) });
      const started = (await store.start(job.job_id, at(2)))!;
      expect(await store.markRepublished(started, at(3))).toBe(false);
    });

    it('fails a stale job only if nothing wrote to it since it was seen', async () => {
      const job = await processing();
      await store.progress(job.job_id, 0.5, at(2));
      expect(await store.failStale(job, FAILURE, at(3))).toBe(false);
      const seen = (await store.get(job.job_id))!;
      expect(await store.failStale(seen, FAILURE, at(3))).toBe(true);
      expect(await store.get(job.job_id)).toMatchObject({
        status: 'failed',
        error: FAILURE,
        completed_at: at(3),
        updated_at: at(3),
      });
      expect(await store.staleProcessing(at(9))).toEqual([]);
    });

    it("pages through one owner's jobs newest first, optionally in one status", async () => {
      const mine = [];
      for (let second = 1; second <= 5; second++) mine.push(await created({ created_at: at(second) }));
      await created({ owner: 'bob', created_at: at(6) });
      await store.start(mine[3]!.job_id, at(7));
      const first = await store.listByOwner('alice', { limit: 2 });
      expect(first.jobs.map((job) => job.job_id)).toEqual([mine[4]!.job_id, mine[3]!.job_id]);
      const second = await store.listByOwner('alice', { limit: 2, after: first.next });
      const third = await store.listByOwner('alice', { limit: 2, after: second.next });
      expect(second.jobs.map((job) => job.job_id)).toEqual([mine[2]!.job_id, mine[1]!.job_id]);
      expect(third.jobs.map((job) => job.job_id)).toEqual([mine[0]!.job_id]);
      expect(third.next).toBeUndefined();
      const queued = await store.listByOwner('alice', { limit: 10, status: 'queued' });
      expect(queued.jobs).toHaveLength(4);
      expect(queued.jobs.map((job) => job.status)).toEqual(['queued', 'queued', 'queued', 'queued']);
      expect((await store.listByOwner('carol', { limit: 10 })).jobs).toEqual([]);
    });

    it('cancels a queued job at once, and only a queued one', async () => {
      const job = await created();
      expect(await store.cancelQueued(job.job_id, at(1))).toEqual({
        ...job,
        status: 'cancelled',
        completed_at: at(1),
        updated_at: at(1),
      });
      expect(await store.cancelQueued(job.job_id, at(2))).toBeUndefined();
      expect(await store.cancelQueued((await processing()).job_id, at(2))).toBeUndefined();
      expect(await store.staleQueued(at(9))).toEqual([]);
    });

    it('flags a processing job for cancel, which then finishes cancelled instead of with its result', async () => {
      const queued = await created();
      expect(await store.requestCancel(queued.job_id, at(1))).toBeUndefined();
      expect(await store.finishCancelled(queued.job_id, at(1))).toBeUndefined();
      const job = await processing();
      expect(await store.cancelRequested(job.job_id)).toBe(false);
      expect(await store.requestCancel(job.job_id, at(2))).toMatchObject({ cancel_requested: true });
      expect(await store.cancelRequested(job.job_id)).toBe(true);
      expect(
        await store.finish({ job_id: job.job_id, status: 'succeeded', result: 1, finished_at: at(3) }, at(3)),
      ).toBeUndefined();
      const cancelled = await store.finishCancelled(job.job_id, at(3));
      expect(cancelled).toMatchObject({ status: 'cancelled', completed_at: at(3), cancel_requested: true });
      expect(await store.finishCancelled(job.job_id, at(4))).toBeUndefined();
      expect(await store.get(job.job_id)).toEqual(cancelled);
      expect(await store.requestCancel(job.job_id, at(4))).toBeUndefined();
    });
  });
}
