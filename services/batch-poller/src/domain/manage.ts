import type { Clock } from '@offload/config';
import { ConflictError, describeError, ValidationError } from '@offload/errors';
import {
  batchItemCompleted,
  batchJobUpdated,
  decodeCursor,
  encodeCursor,
  isOpenBatchJobStatus,
  isTerminalItemStatus,
  type BatchJob,
  type ListBatchJobsQuery,
} from '@offload/messages';
import {
  addCounts,
  CANCELLED_ITEM,
  countOf,
  getJobFor,
  jobView,
  resolution,
  type BatchProvider,
  type BatchStore,
  type EventSink,
  type ItemCounts,
} from './batchJobs';

/** DELETE of a batch job that already ended: nothing left to cancel. */
export class BatchJobFinishedError extends ConflictError {
  constructor(jobId: string, status: string) {
    super('job_finished', `Batch job ${jobId} has already ended (${status}); there is nothing to cancel`);
  }
}

const CURSOR_FIELDS = ['created_at', 'job_id'] as const;
const SOURCE = 'batch-poller.cancel';

/** GET /batch-jobs: the owner's batch jobs newest first, a page at a time. */
export async function listBatchJobsFor(
  store: Pick<BatchStore, 'listByOwner'>,
  owner: string,
  query: ListBatchJobsQuery,
) {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, CURSOR_FIELDS);
  if (query.cursor !== undefined && !after) {
    throw new ValidationError([{ field: 'cursor', message: 'must be a next_cursor from a previous page' }]);
  }
  const page = await store.listByOwner(owner, {
    limit: query.limit,
    ...(query.status && { status: query.status }),
    ...(after && { after }),
  });
  return {
    batch_jobs: page.jobs.map(jobView),
    next_cursor: page.next
      ? encodeCursor({ created_at: page.next.created_at, job_id: page.next.job_id })
      : null,
  };
}

export interface CancelDeps {
  store: BatchStore;
  provider: BatchProvider;
  clock: Clock;
  warn(message: string, fields: Record<string, unknown>): void;
  events?: EventSink;
}

/**
 * DELETE /batch-jobs/{id}: flags the job, ends the items the provider never got as `cancelled`,
 * asks the provider to cancel the submitted open ones, and resolves the job at once when nothing
 * is left open (200, `cancelled`); otherwise the poller ends it `cancelled` as the provider's
 * cancels land (202). An ended job is a 409; another owner's a 404.
 */
export async function cancelBatchJobFor(
  deps: CancelDeps,
  jobId: string,
  owner: string,
): Promise<{ state: 'cancelled' | 'cancelling'; job: BatchJob }> {
  const now = () => deps.clock.now().toISOString();
  const job = await getJobFor(deps.store, jobId, owner);
  if (!isOpenBatchJobStatus(job.status)) throw new BatchJobFinishedError(jobId, job.status);
  const flagged = await deps.store.requestCancel(jobId, now());
  if (!flagged) {
    const resolved = await getJobFor(deps.store, jobId, owner);
    throw new BatchJobFinishedError(jobId, resolved.status);
  }
  const items = await deps.store.allItems(jobId);
  let ended: ItemCounts = {};
  await Promise.all(
    items
      .filter((item) => !isTerminalItemStatus(item.status))
      .map(async (item) => {
        if (!item.provider_task_id) {
          const at = now();
          if (await deps.store.finishItem(item, CANCELLED_ITEM, at)) {
            ended = addCounts(ended, countOf(CANCELLED_ITEM.status));
            await deps.events?.publish(
              batchItemCompleted(owner, { ...item, status: 'cancelled' }, CANCELLED_ITEM, at, SOURCE),
            );
          }
          return;
        }
        if (item.status === 'cancelling') return;
        try {
          await deps.provider.cancel(item.provider_task_id);
          await deps.store.markProgress(item, 'cancelling', now());
        } catch (error) {
          // The item may have finished meanwhile (the provider refuses to cancel a done batch); the
          // poller records whatever it ended as, and the job still ends `cancelled`.
          deps.warn('Cancelling an item at the provider failed', {
            job_id: jobId,
            item_id: item.item_id,
            reason: describeError(error),
          });
        }
      }),
  );
  // One counter write for every item ended here, before a resolution makes the totals final.
  await deps.store.countItems(jobId, ended, now());
  const outcome = resolution(flagged, await deps.store.allItems(jobId));
  if (outcome) await deps.store.resolveJob(jobId, outcome.status, outcome.totals, now());
  // Read back: the poller may have resolved it meanwhile.
  const latest = (await deps.store.getJob(jobId)) ?? flagged;
  await deps.events?.publish(batchJobUpdated(latest, SOURCE));
  return { state: latest.status === 'cancelled' ? 'cancelled' : 'cancelling', job: latest };
}
