import pLimit from 'p-limit';
import { describeError } from '@offload/errors';
import { batchItemCompleted, batchJobUpdated, type BatchItem, type BatchJob } from '@offload/messages';
import {
  addCounts,
  CANCELLED_ITEM,
  countOf,
  NO_EVENTS,
  isFinalCheck,
  outcomeOf,
  resolution,
  type EventSink,
  type ItemCounts,
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
 * Terminal transitions are conditional writes and only the run that wins one counts it, so
 * overlapping runs never count an item twice; a pass adds up a job's items and writes its counters
 * once; submissions go through the same claim as the POST handler's, so no item is ever submitted
 * twice.
 */
export function pollPass(deps: PollDeps, options: PollOptions): Promise<PollStats> {
  return new PollPass(deps, options).run();
}

/** One pass's state (its counters, its concurrency limit, the jobs it changed) and its steps. */
class PollPass {
  readonly stats = emptyStats();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly events: EventSink;
  /** Jobs whose stored state this pass changed: each gets one batch_job.updated at its end. */
  private readonly changed = new Set<string>();
  /** What this pass adds to each job's counters, written once per job (`pollJob`). */
  private readonly counts = new Map<string, ItemCounts>();

  constructor(
    private readonly deps: PollDeps,
    private readonly options: PollOptions,
  ) {
    this.limit = pLimit(options.concurrency);
    this.events = deps.events ?? NO_EVENTS;
  }

  async run(): Promise<PollStats> {
    await this.cleanUpLeftovers();
    const jobs = await this.deps.store.activeJobs();
    await Promise.all(
      jobs.map((job) =>
        this.pollJob(job).catch((error: unknown) => {
          this.stats.errors += 1;
          this.deps.warn('Polling a job failed; the next run tries again', {
            job_id: job.job_id,
            reason: describeError(error),
          });
        }),
      ),
    );
    return this.stats;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private async cleanUpLeftovers(): Promise<void> {
    try {
      const pending = await this.deps.store.pendingCleanups(this.options.cleanupsPerPass);
      await Promise.all(
        pending.map((item) =>
          this.limit(async () =>
            this.deps.hasTime() ? this.cleanUp(item, item.cleanup_files ?? []) : undefined,
          ),
        ),
      );
    } catch (error) {
      this.stats.cleanupErrors += 1;
      this.deps.warn('Reading pending clean-ups failed; a later pass tries again', {
        reason: describeError(error),
      });
    }
  }

  private async pollJob(job: BatchJob): Promise<void> {
    const items = await this.deps.store.openItems(job.job_id, this.options.maxItemsPerJob);
    this.stats.jobsPolled += 1;
    const results = await Promise.all(items.map((item) => this.limit(() => this.pollItem(job, item))));
    this.stats.deferred += results.filter((r) => r === 'deferred').length;
    // Before any resolution: a resolved job's totals are final and take no more counts.
    const counts = this.counts.get(job.job_id);
    if (counts) await this.deps.store.countItems(job.job_id, counts, this.now());
    // Only look for a resolution when this pass saw the job's last open items finish.
    const sawAll = items.length < this.options.maxItemsPerJob;
    if (sawAll && results.every((r) => r === 'finished')) await this.resolve(job);
    if (this.changed.has(job.job_id)) {
      const latest = await this.deps.store.getJob(job.job_id);
      if (latest) await this.events.publish(batchJobUpdated(latest, 'batch-poller.poller'));
    }
  }

  private async pollItem(job: BatchJob, item: BatchItem): Promise<ItemResult> {
    if (!this.deps.hasTime()) return 'deferred';
    this.stats.itemsPolled += 1;
    try {
      if (!item.provider_task_id && job.cancel_requested) {
        // Never handed to the provider and now cancelled: nothing to submit.
        await this.finished(job, item, CANCELLED_ITEM);
        return 'finished';
      }
      if (!item.provider_task_id) {
        // Accepted by us but never by the provider (submission failed, ran out of time or is
        // under way elsewhere): the claim decides whether this run submits it.
        await this.submit(job, item);
        return 'open';
      }
      return await this.check(job, item, item.provider_task_id);
    } catch (error) {
      this.stats.errors += 1;
      this.deps.warn('Polling an item failed; the next run tries again', {
        job_id: job.job_id,
        item_id: item.item_id,
        reason: describeError(error),
      });
      return 'error';
    }
  }

  /** Asks the provider how a submitted item stands and records an end or a status change. */
  private async check(job: BatchJob, item: BatchItem, taskId: string): Promise<ItemResult> {
    const check = await this.deps.provider.check(taskId);
    if (isFinalCheck(check)) {
      const outcome = outcomeOf(check);
      if ('failure' in check) {
        // The provider's own text goes to the logs; the item keeps only the public failure.
        this.deps.warn('An item ended without a result', {
          job_id: job.job_id,
          item_id: item.item_id,
          status: check.status,
          reason: describeError(check.failure),
        });
      }
      if (await this.finished(job, item, outcome)) await this.cleanUp(item, outcome.files);
      return 'finished';
    }
    if (check.status !== item.status) {
      await this.deps.store.markProgress(item, check.status, this.now());
      this.stats.itemsUpdated += 1;
    }
    return 'open';
  }

  private async submit(job: BatchJob, item: BatchItem): Promise<void> {
    const result = await submitItem(this.deps, this.options, job, item);
    if (result === 'error') this.stats.errors += 1;
    if (result === 'submitted') {
      this.count(job, { submitted: 1 });
      this.stats.itemsUpdated += 1;
      this.changed.add(job.job_id);
    }
  }

  /** Records an item's end once; true only for the write that made it (which publishes it). */
  private async finished(job: BatchJob, item: BatchItem, outcome: ItemOutcome): Promise<boolean> {
    const at = this.now();
    if (!(await this.deps.store.finishItem(item, outcome, at))) return false;
    this.count(job, countOf(outcome.status));
    this.stats.itemsUpdated += 1;
    this.changed.add(job.job_id);
    await this.events.publish(
      batchItemCompleted(job.owner, { ...item, status: outcome.status }, outcome, at, 'batch-poller.poller'),
    );
    return true;
  }

  private count(job: BatchJob, counts: ItemCounts): void {
    this.counts.set(job.job_id, addCounts(this.counts.get(job.job_id) ?? {}, counts));
  }

  /** Deletes an ended item's provider files; a failure is logged and left for a later pass. */
  private async cleanUp(item: BatchItem, files: readonly string[]): Promise<void> {
    try {
      for (const file of files) {
        await this.deps.provider.deleteFile(file);
        this.stats.filesDeleted += 1;
      }
      await this.deps.store.clearCleanup(item);
    } catch (error) {
      this.stats.cleanupErrors += 1;
      this.deps.warn('Deleting provider files failed; a later pass tries again', {
        job_id: item.job_id,
        item_id: item.item_id,
        reason: describeError(error),
      });
    }
  }

  private async resolve(job: BatchJob): Promise<void> {
    const outcome = resolution(job, await this.deps.store.allItems(job.job_id));
    if (
      outcome &&
      (await this.deps.store.resolveJob(job.job_id, outcome.status, outcome.totals, this.now()))
    ) {
      this.stats.jobsResolved += 1;
      this.changed.add(job.job_id);
    }
  }
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
