import type { Clock } from '@offload/config';
import { ConflictError, NotFoundError, ValidationError } from '@offload/errors';
import { decodeCursor, encodeCursor, jobUpdated, type Caller, type ListJobsQuery } from '@offload/messages';
import { isTerminal, jobView, type EventSink, type JobStore, type JobView } from './jobs';

/** DELETE of a job that already ended: nothing left to cancel. */
export class JobFinishedError extends ConflictError {
  constructor(jobId: string, status: string) {
    super('job_finished', `Job ${jobId} has already ended (${status}); there is nothing to cancel`);
  }
}

const CURSOR_FIELDS = ['created_at', 'job_id'] as const;

/** GET /jobs: the caller's jobs newest first, a page at a time; the cursor never names an owner. */
export async function listJobsFor(
  store: Pick<JobStore, 'listByOwner'>,
  caller: Caller,
  query: ListJobsQuery,
): Promise<{ jobs: JobView[]; next_cursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, CURSOR_FIELDS);
  if (query.cursor !== undefined && !after) {
    throw new ValidationError([{ field: 'cursor', message: 'must be a next_cursor from a previous page' }]);
  }
  const page = await store.listByOwner(caller.userId, {
    limit: query.limit,
    ...(query.status && { status: query.status }),
    ...(after && { after }),
  });
  return {
    jobs: page.jobs.map(jobView),
    next_cursor: page.next
      ? encodeCursor({ created_at: page.next.created_at, job_id: page.next.job_id })
      : null,
  };
}

export type CancelOutcome = { state: 'cancelled' | 'cancelling'; job: JobView };

// A job can move on between the read and the write (the processor picks it up); each lost race
// re-reads, and the states only move forward, so a few rounds always settle.
const CANCEL_ROUNDS = 4;

/**
 * DELETE /jobs/{id}: a queued job is cancelled at once; a processing one is flagged, and its
 * processor ends it `cancelled` before its next LLM step; an ended one is a 409.
 */
export async function cancelJobFor(
  store: Pick<JobStore, 'get' | 'cancelQueued' | 'requestCancel'>,
  jobId: string,
  caller: Caller,
  clock: Clock,
  events?: EventSink,
): Promise<CancelOutcome> {
  for (let round = 0; round < CANCEL_ROUNDS; round++) {
    const job = await store.get(jobId);
    if (!job || job.owner !== caller.userId) throw new NotFoundError(`Job ${jobId} not found`);
    if (isTerminal(job)) throw new JobFinishedError(jobId, job.status);
    const now = clock.now().toISOString();
    if (job.status === 'queued') {
      const cancelled = await store.cancelQueued(jobId, now);
      if (cancelled) {
        await events?.publish(jobUpdated(cancelled, 'ai-jobs.cancel'));
        return { state: 'cancelled', job: jobView(cancelled) };
      }
    } else {
      const flagged = await store.requestCancel(jobId, now);
      if (flagged) {
        await events?.publish(jobUpdated(flagged, 'ai-jobs.cancel'));
        return { state: 'cancelling', job: jobView(flagged) };
      }
    }
  }
  throw new ConflictError('conflict', `Job ${jobId} kept changing while being cancelled; try again`);
}
