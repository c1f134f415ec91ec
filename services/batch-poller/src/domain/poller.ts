import pLimit from 'p-limit';
import { describeError } from '@offload/errors';
import { batchItemCompleted, batchJobUpdated, type BatchItem, type BatchJob } from '@offload/messages';
import {
  CANCELLED_ITEM,
  NO_EVENTS,
  isFinalCheck,
  outcomeOf,
  resolution,
  type EventSink,
  type ItemOutcome,
} from './batchJobs';
import { submitItem, type SubmitDeps, type SubmitOptions } from './submit';

export interface PollStats {
  jobsPolled: number;
  itemsPolled: number;
  itemsUpdated: number;
  jobsResolved: number;
  errors: number;
  /** Items left for the next run because the invocation was running out of time. */
  deferred: number;
  /** Provider files deleted after their item ended, and deletions that failed (retried later). */
  filesDeleted: number;
  cleanupErrors: number;
}

export type PollDeps = SubmitDeps & {
  /** batch_item.completed per item that ends, batch_job.updated per job whose aggregates moved. */
  events?: EventSink;
};

export interface PollOptions extends SubmitOptions {
  maxItemsPerJob: number;
  concurrency: number;
  /** Ended items whose leftover provider files one pass tries to delete again. */
  cleanupsPerPass: number;
}

export const emptyStats = (): PollStats => ({
  jobsPolled: 0,
  itemsPolled: 0,
  itemsUpdated: 0,
  jobsResolved: 0,
  errors: 0,
  deferred: 0,
  filesDeleted: 0,
  cleanupErrors: 0,
});

export function addStats(a: PollStats, b: PollStats): PollStats {
  const sum = emptyStats();
  for (const key of Object.keys(sum) as (keyof PollStats)[]) sum[key] = a[key] + b[key];
  return sum;
}

type ItemResult = 'open' | 'finished' | 'deferred' | 'error';

/**
 * One polling pass: first the clean-up left over from earlier passes, then every active job, at
 * most `maxItemsPerJob` of its open items each, all provider calls through one concurrency limit.
 * Terminal transitions are conditional writes and only the run that wins one bumps the job's
 * counters, so overlapping runs never count an item twice; submissions go through the same claim
 * as the POST handler's, so no item is ever submitted twice.
 */
export async function pollPass(deps: PollDeps, options: PollOptions): Promise<PollStats> {
  const stats = emptyStats();
  const limit = pLimit(options.concurrency);
  const now = () => deps.clock.now().toISOString();
  const events = deps.events ?? NO_EVENTS;
  // Jobs whose stored state this pass changed: each gets one batch_job.updated at its end.
  const changed = new Set<string>();

  /** Records an item's end once; true only for the write that made it (which publishes it). */
  async function finished(job: BatchJob, item: BatchItem, outcome: ItemOutcome): Promise<boolean> {
    const at = now();
    if (!(await deps.store.finishItem(item, outcome, at))) return false;
    await deps.store.countFinished(job.job_id, outcome.status, at);
    stats.itemsUpdated += 1;
    changed.add(job.job_id);
    await events.publish(
      batchItemCompleted(job.owner, { ...item, status: outcome.status }, outcome, at, 'batch-poller.poller'),
    );
    return true;
  }

  /** Deletes an ended item's provider files; a failure is logged and left for a later pass. */
  async function cleanUp(item: BatchItem, files: readonly string[]): Promise<void> {
    try {
      for (const file of files) {
        await deps.provider.deleteFile(file);
        stats.filesDeleted += 1;
      }
      await deps.store.clearCleanup(item);
    } catch (error) {
      stats.cleanupErrors += 1;
      deps.warn('Deleting provider files failed; a later pass tries again', {
        job_id: item.job_id,
        item_id: item.item_id,
        reason: describeError(error),
      });
    }
  }

  async function cleanUpLeftovers(): Promise<void> {
    try {
      const pending = await deps.store.pendingCleanups(options.cleanupsPerPass);
      await Promise.all(
        pending.map((item) =>
          limit(async () => (deps.hasTime() ? cleanUp(item, item.cleanup_files ?? []) : undefined)),
        ),
      );
    } catch (error) {
      stats.cleanupErrors += 1;
      deps.warn('Reading pending clean-ups failed; a later pass tries again', {
        reason: describeError(error),
      });
    }
  }

  async function submit(job: BatchJob, item: BatchItem): Promise<void> {
    const result = await submitItem(deps, options, job, item);
    if (result === 'error') stats.errors += 1;
    if (result === 'submitted') {
      await deps.store.countSubmitted(job.job_id, 1, now());
      stats.itemsUpdated += 1;
      changed.add(job.job_id);
    }
  }

  async function pollItem(job: BatchJob, item: BatchItem): Promise<ItemResult> {
    if (!deps.hasTime()) return 'deferred';
    stats.itemsPolled += 1;
    try {
      if (!item.provider_task_id && job.cancel_requested) {
        // Never handed to the provider and now cancelled: nothing to submit.
        await finished(job, item, CANCELLED_ITEM);
        return 'finished';
      }
      if (!item.provider_task_id) {
        // Accepted by us but never by the provider (submission failed, ran out of time or is
        // under way elsewhere): the claim decides whether this run submits it.
        await submit(job, item);
        return 'open';
      }
      const check = await deps.provider.check(item.provider_task_id);
      if (isFinalCheck(check)) {
        const outcome = outcomeOf(check);
        if ('failure' in check) {
          // The provider's own text goes to the logs; the item keeps only the public failure.
          deps.warn('An item ended without a result', {
            job_id: job.job_id,
            item_id: item.item_id,
            status: check.status,
            reason: describeError(check.failure),
          });
        }
        if (await finished(job, item, outcome)) await cleanUp(item, outcome.files);
        return 'finished';
      }
      if (check.status !== item.status) {
        await deps.store.markProgress(item, check.status, now());
        stats.itemsUpdated += 1;
      }
      return 'open';
    } catch (error) {
      stats.errors += 1;
      deps.warn('Polling an item failed; the next run tries again', {
        job_id: job.job_id,
        item_id: item.item_id,
        reason: describeError(error),
      });
      return 'error';
    }
  }

  async function pollJob(job: BatchJob): Promise<void> {
    const items = await deps.store.openItems(job.job_id, options.maxItemsPerJob);
    stats.jobsPolled += 1;
    const results = await Promise.all(items.map((item) => limit(() => pollItem(job, item))));
    stats.deferred += results.filter((r) => r === 'deferred').length;
    // Only look for a resolution when this pass saw the job's last open items finish.
    const sawAll = items.length < options.maxItemsPerJob;
    if (sawAll && results.every((r) => r === 'finished')) await resolve(job);
    if (changed.has(job.job_id)) {
      const latest = await deps.store.getJob(job.job_id);
      if (latest) await events.publish(batchJobUpdated(latest, 'batch-poller.poller'));
    }
  }

  async function resolve(job: BatchJob): Promise<void> {
    const outcome = resolution(job, await deps.store.allItems(job.job_id));
    if (outcome && (await deps.store.resolveJob(job.job_id, outcome.status, outcome.totals, now()))) {
      stats.jobsResolved += 1;
      changed.add(job.job_id);
    }
  }

  await cleanUpLeftovers();
  const jobs = await deps.store.activeJobs();
  await Promise.all(
    jobs.map((job) =>
      pollJob(job).catch((error: unknown) => {
        stats.errors += 1;
        deps.warn('Polling a job failed; the next run tries again', {
          job_id: job.job_id,
          reason: describeError(error),
        });
      }),
    ),
  );
  return stats;
}

export interface RunOptions extends PollOptions {
  /** Passes per invocation (EventBridge's smallest rate is a minute; the seed polls every 30 s). */
  passes: number;
  passIntervalMs: number;
}

/**
 * One scheduled invocation: `passes` polling passes `passIntervalMs` apart, stopping early when
 * no job is left open or the next pass would not have time to start.
 */
export async function pollRun(
  deps: PollDeps & { sleep(ms: number): Promise<void> },
  options: RunOptions,
): Promise<PollStats & { passes: number }> {
  const started = deps.clock.now().getTime();
  let total = emptyStats();
  let passes = 0;
  let last: PollStats | undefined;
  for (let pass = 0; pass < options.passes; pass++) {
    if (last) {
      // Nothing left open after the last pass: waiting for the next one would only cost time.
      if (last.jobsPolled === last.jobsResolved) break;
      const wait = started + pass * options.passIntervalMs - deps.clock.now().getTime();
      if (wait > 0) await deps.sleep(wait);
    }
    if (!deps.hasTime()) break;
    last = await pollPass(deps, options);
    total = addStats(total, last);
    passes += 1;
  }
  return { ...total, passes };
}
