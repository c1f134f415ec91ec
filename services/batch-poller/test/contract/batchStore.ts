import { randomUUID } from 'node:crypto';
import type { BatchItem, BatchJob } from '@offload/messages';
import { CONDITION_FAILED } from '@offload/testing/conditionFailed';
import { itemId, type BatchStore, type ItemOutcome, type SubmitClaim } from '../../src/domain/batchJobs';

const at = (second: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, second)).toISOString();
const FAILURE = { code: 'provider_error', message: 'The provider failed this item' };
const SUCCEEDED: ItemOutcome = { status: 'succeeded', result: 'ok', files: ['file-out', 'file-in'] };

function newJob(itemCount: number, changes: Partial<BatchJob> = {}) {
  const job: BatchJob = {
    job_id: randomUUID(),
    owner: 'alice',
    status: 'queued',
    total_items: itemCount,
    submitted_items: 0,
    processed_items: 0,
    succeeded_items: 0,
    failed_items: 0,
    created_at: at(0),
    updated_at: at(0),
    ...changes,
  };
  const items = Array.from({ length: itemCount }, (_, index): BatchItem => ({
    job_id: job.job_id,
    item_id: itemId(index),
    input: `question ${index + 1}`,
    status: 'queued',
    polls: 0,
    created_at: at(0),
    updated_at: at(0),
  }));
  return { job, items };
}

const claim = (token: string, now = at(1), staleBefore = at(0)): SubmitClaim => ({
  token,
  now,
  staleBefore,
  submitKey: `key-${token}`,
});

/** Follows `next` from the first page to the last, checking no page is longer than `limit`. */
async function allPages<T, Cursor>(
  limit: number,
  read: (after?: Cursor) => Promise<{ page: T[]; next?: Cursor }>,
): Promise<T[]> {
  const all: T[] = [];
  let after: Cursor | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const { page, next } = await read(after);
    expect(page.length).toBeLessThanOrEqual(limit);
    all.push(...page);
    if (next === undefined) return all;
    after = next;
  }
  throw new Error('paging never ended');
}

/** What every BatchStore does; `makeStore` answers a store holding no jobs or items. */
export function describeBatchStoreContract(name: string, makeStore: () => Promise<BatchStore>) {
  describe(`BatchStore contract: ${name}`, () => {
    let store: BatchStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    const created = async (itemCount = 2, changes: Partial<BatchJob> = {}) => {
      const made = newJob(itemCount, changes);
      await store.createJob(made.job, made.items);
      return made;
    };
    const item = async (jobId: string, id = '0001') =>
      (await store.allItems(jobId)).find((candidate) => candidate.item_id === id)!;

    it('creates a job once: a second create of the id is refused as a lost condition', async () => {
      const { job, items } = await created();
      await expect(store.createJob({ ...job, owner: 'mallory' }, items)).rejects.toMatchObject(
        CONDITION_FAILED,
      );
      expect(await store.getJob(job.job_id)).toEqual(job);
      expect(await store.allItems(job.job_id)).toEqual(items);
      expect(await store.getJob(randomUUID())).toBeUndefined();
    });

    it('hands out copies, never the records it keeps', async () => {
      const { job, items } = await created(1);
      job.status = 'failed';
      items[0]!.status = 'failed';
      await store.finishItem(items[0]!, SUCCEEDED, at(1));
      const [listed] = await store.pendingCleanups(10);
      listed!.cleanup_files!.push('not-stored');
      (await store.activeJobs())[0]!.status = 'failed';
      (await store.getJob(job.job_id))!.status = 'failed';
      expect(await store.getJob(job.job_id)).toMatchObject({ status: 'queued' });
      expect(await store.allItems(job.job_id)).toMatchObject([
        { status: 'succeeded', cleanup_files: ['file-out', 'file-in'] },
      ]);
    });

    it('pages through the items of a job in order, each once', async () => {
      const { job, items } = await created(5);
      await created(3);
      const paged = await allPages(2, async (after?: string) => {
        const { items: page, next } = await store.listItems(job.job_id, 2, after);
        return { page, next };
      });
      expect(paged).toEqual(items);
      expect(await store.listItems(job.job_id, 10)).toEqual({ items });
    });

    it('claims a queued item for one submitter; a fresh claim is not taken over, a stale one is', async () => {
      const { job } = await created(1);
      const queued = await item(job.job_id);
      const claimed = await store.claimItem(queued, claim('first', at(1)));
      expect(claimed).toEqual({
        ...queued,
        status: 'submitting',
        claim_token: 'first',
        claimed_at: at(1),
        updated_at: at(1),
        submit_key: 'key-first',
      });
      expect(await store.claimItem(queued, claim('second', at(2), at(1)))).toBeUndefined();
      // Taking over a stale claim keeps the submit key, so a resubmission finds the same batch.
      expect(await store.claimItem(queued, claim('third', at(3), at(2)))).toMatchObject({
        claim_token: 'third',
        submit_key: 'key-first',
      });
    });

    it('never claims an item already handed to the provider, nor an unknown one', async () => {
      const { job } = await created(1);
      const queued = await item(job.job_id);
      await store.claimItem(queued, claim('first'));
      expect(await store.markSubmitted(queued, 'first', 'batch_1', at(2))).toBe(true);
      expect(await store.claimItem(queued, claim('second', at(9), at(9)))).toBeUndefined();
      expect(await store.claimItem({ ...queued, item_id: '9999' }, claim('x'))).toBeUndefined();
      expect(await store.allItems(job.job_id)).toHaveLength(1);
    });

    it('marks an item submitted only for the holder of its claim', async () => {
      const { job } = await created(1);
      const queued = await item(job.job_id);
      expect(await store.markSubmitted(queued, 'nobody', 'batch_0', at(1))).toBe(false);
      await store.claimItem(queued, claim('holder'));
      expect(await store.markSubmitted(queued, 'other', 'batch_0', at(2))).toBe(false);
      expect(await store.markSubmitted(queued, 'holder', 'batch_1', at(2))).toBe(true);
      const submitted = await item(job.job_id);
      expect(submitted).toMatchObject({
        status: 'validating',
        provider_task_id: 'batch_1',
        updated_at: at(2),
      });
      expect(submitted).not.toHaveProperty('claim_token');
      expect(submitted).not.toHaveProperty('claimed_at');
      expect(await store.markSubmitted(queued, 'holder', 'batch_2', at(3))).toBe(false);
    });

    it('releases a claim only for its holder, dropping the submit key when asked', async () => {
      const { job } = await created(2);
      const [first, second] = await store.allItems(job.job_id);
      await store.claimItem(first!, claim('a'));
      await store.claimItem(second!, claim('b'));
      await store.releaseClaim(first!, 'not-a', false, at(2));
      expect(await item(job.job_id, '0001')).toMatchObject({ status: 'submitting', claim_token: 'a' });
      await store.releaseClaim(first!, 'a', false, at(2));
      await store.releaseClaim(second!, 'b', true, at(2));
      const [kept, renewed] = await store.allItems(job.job_id);
      expect(kept).toMatchObject({ status: 'queued', submit_key: 'key-a', updated_at: at(2) });
      expect(kept).not.toHaveProperty('claim_token');
      expect(renewed).toMatchObject({ status: 'queued' });
      expect(renewed).not.toHaveProperty('submit_key');
    });

    it('moves an open item through progress and finishes it once; a terminal item never changes', async () => {
      const { job } = await created(2);
      const open = await item(job.job_id);
      await store.markProgress(open, 'in_progress', at(1));
      expect(await item(job.job_id)).toMatchObject({ status: 'in_progress', polls: 1, updated_at: at(1) });
      expect(await store.finishItem(open, SUCCEEDED, at(2))).toBe(true);
      const failed: ItemOutcome = { status: 'failed', error: FAILURE, files: [] };
      expect(await store.finishItem(open, failed, at(3))).toBe(false);
      await store.markProgress(open, 'finalizing', at(3));
      expect(await item(job.job_id)).toMatchObject({
        status: 'succeeded',
        result: 'ok',
        polls: 2,
        completed_at: at(2),
        updated_at: at(2),
      });
      expect((await store.openItems(job.job_id, 10)).map((i) => i.item_id)).toEqual(['0002']);
      expect(await store.finishItem(await item(job.job_id, '0002'), failed, at(4))).toBe(true);
      expect(await item(job.job_id, '0002')).toMatchObject({ status: 'failed', error: FAILURE });
      expect(await store.openItems(job.job_id, 10)).toEqual([]);
    });

    it('writes no item for a progress or a finish of an unknown one', async () => {
      const { job } = await created(1);
      const ghost = { ...(await item(job.job_id)), item_id: '9999' };
      await store.markProgress(ghost, 'in_progress', at(1));
      expect(await store.finishItem(ghost, SUCCEEDED, at(1))).toBe(false);
      await store.clearCleanup(ghost);
      expect((await store.allItems(job.job_id)).map((i) => i.item_id)).toEqual(['0001']);
      expect(await store.pendingCleanups(10)).toEqual([]);
    });

    it('lists open items up to a limit', async () => {
      const { job } = await created(3);
      expect(await store.openItems(job.job_id, 2)).toHaveLength(2);
      expect(await store.openItems(randomUUID(), 2)).toEqual([]);
    });

    it('keeps finished items with provider files as pending clean-ups until cleared', async () => {
      const { job } = await created(3);
      const [first, second, third] = await store.allItems(job.job_id);
      await store.finishItem(first!, SUCCEEDED, at(1));
      await store.finishItem(second!, { ...SUCCEEDED, files: ['file-2'] }, at(1));
      await store.finishItem(third!, { status: 'expired', error: FAILURE, files: [] }, at(1));
      expect((await store.pendingCleanups(10)).map((i) => i.item_id).sort()).toEqual(['0001', '0002']);
      expect(await store.pendingCleanups(1)).toHaveLength(1);
      await store.clearCleanup(first!);
      expect(await store.pendingCleanups(10)).toMatchObject([{ item_id: '0002', cleanup_files: ['file-2'] }]);
      expect(await item(job.job_id, '0001')).not.toHaveProperty('cleanup_files');
    });

    it('counts on an open job, resolves it once, and counts nothing after', async () => {
      const { job } = await created(3);
      await store.countItems(job.job_id, { succeeded: 1 }, at(1));
      expect(await store.getJob(job.job_id)).toMatchObject({ status: 'queued', processed_items: 1 });
      await store.countItems(job.job_id, { submitted: 2, failed: 1 }, at(2));
      await store.countItems(job.job_id, {}, at(3));
      expect(await store.getJob(job.job_id)).toEqual({
        ...job,
        status: 'running',
        submitted_items: 2,
        processed_items: 2,
        succeeded_items: 1,
        failed_items: 1,
        updated_at: at(2),
      });
      const totals = { processed_items: 2, succeeded_items: 1, failed_items: 1 };
      expect(await store.resolveJob(job.job_id, 'completed', totals, at(4))).toBe(true);
      expect(await store.resolveJob(job.job_id, 'failed', totals, at(5))).toBe(false);
      await store.countItems(job.job_id, { submitted: 1, succeeded: 1 }, at(6));
      expect(await store.getJob(job.job_id)).toMatchObject({
        status: 'completed',
        processed_items: 2,
        submitted_items: 2,
        completed_at: at(4),
        updated_at: at(4),
      });
      expect(await store.activeJobs()).toEqual([]);
      expect(await store.resolveJob(randomUUID(), 'completed', totals, at(4))).toBe(false);
    });

    it('lists the open jobs only', async () => {
      const open = await created(1);
      const done = await created(1);
      await store.resolveJob(
        done.job.job_id,
        'completed',
        { processed_items: 1, succeeded_items: 1, failed_items: 0 },
        at(1),
      );
      expect(await store.activeJobs()).toEqual([open.job]);
    });

    it('flags an open job for cancel, and not a resolved or unknown one', async () => {
      const { job } = await created(1);
      expect(await store.requestCancel(job.job_id, at(1))).toEqual({
        ...job,
        cancel_requested: true,
        updated_at: at(1),
      });
      await store.resolveJob(
        job.job_id,
        'cancelled',
        { processed_items: 1, succeeded_items: 0, failed_items: 1 },
        at(2),
      );
      expect(await store.requestCancel(job.job_id, at(3))).toBeUndefined();
      expect(await store.requestCancel(randomUUID(), at(3))).toBeUndefined();
    });

    it("pages through one owner's jobs newest first, each once, optionally in one status", async () => {
      const mine = [];
      for (let second = 1; second <= 5; second++)
        mine.push((await created(1, { created_at: at(second) })).job);
      await created(1, { owner: 'bob', created_at: at(6) });
      await store.countItems(mine[1]!.job_id, { submitted: 1 }, at(7));
      const paged = await allPages(2, async (after?: { created_at: string; job_id: string }) => {
        const { jobs, next } = await store.listByOwner('alice', { limit: 2, after });
        return { page: jobs, next };
      });
      expect(paged.map((job) => job.job_id)).toEqual(mine.map((job) => job.job_id).reverse());
      const running = await store.listByOwner('alice', { limit: 10, status: 'running' });
      expect(running.jobs.map((job) => job.job_id)).toEqual([mine[1]!.job_id]);
    });
  });
}
