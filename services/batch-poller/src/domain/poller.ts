import pLimit from 'p-limit';
import { describeError, TooManyRequestsError } from '@offload/errors';
import {
  batchItemCompleted,
  batchJobUpdated,
  type BatchItem,
  type BatchJob,
  type CreateBatchJobBody,
} from '@offload/messages';
import {
  CANCELLED_ITEM,
  NO_EVENTS,
  isFinalCheck,
  newBatchJob,
  requestFor,
  resolution,
  type BatchProvider,
  type BatchStore,
  type EventSink,
  type ItemOutcome,
} from './batchJobs';

export interface PollStats {
  jobsPolled: number;
  itemsPolled: number;
  itemsUpdated: number;
  jobsResolved: number;
  errors: number;
  /** Items left for the next run because the invocation was running out of time. */
  deferred: number;
}

export interface PollDeps {
  store: BatchStore;
  provider: BatchProvider;
  clock: { now(): Date };
  /** False once there is no longer time to start a provider call and record its answer. */
  hasTime(): boolean;
  warn(message: string, fields: Record<string, unknown>): void;
  /** batch_item.completed per item that ends, batch_job.updated per job whose aggregates moved. */
  events?: EventSink;
}

export interface PollOptions {
  maxItemsPerJob: number;
  concurrency: number;
}

export const emptyStats = (): PollStats => ({
  jobsPolled: 0,
  itemsPolled: 0,
  itemsUpdated: 0,
  jobsResolved: 0,
  errors: 0,
  deferred: 0,
});

export function addStats(a: PollStats, b: PollStats): PollStats {
  const sum = emptyStats();
  for (const key of Object.keys(sum) as (keyof PollStats)[]) sum[key] = a[key] + b[key];
  return sum;
}

type ItemResult = 'open' | 'finished' | 'deferred' | 'error';

/**
 * One polling pass: every active job, at most `maxItemsPerJob` of its open items each, all provider
 * calls through one concurrency limit. Terminal transitions are conditional writes and only the
 * run that wins one bumps the job's counters, so overlapping runs never count an item twice.
 */
export async function pollPass(deps: PollDeps, options: PollOptions): Promise<PollStats> {
  const stats = emptyStats();
  const limit = pLimit(options.concurrency);
  const now = () => deps.clock.now().toISOString();
  const events = deps.events ?? NO_EVENTS;
  // Jobs whose stored state this pass changed: each gets one batch_job.updated at its end.
  const changed = new Set<string>();

  async function finished(job: BatchJob, item: BatchItem, outcome: ItemOutcome): Promise<void> {
    const at = now();
    if (!(await deps.store.finishItem(item, outcome, at))) return;
    await deps.store.countFinished(job.job_id, outcome.status, at);
    stats.itemsUpdated += 1;
    changed.add(job.job_id);
    await events.publish(
      batchItemCompleted(job.owner, { ...item, status: outcome.status }, outcome, at, 'batch-poller.poller'),
    );
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
        // Accepted by us but never by the provider (submission failed or ran out of time).
        const providerTaskId = await deps.provider.submit(requestFor(job, item));
        if (await deps.store.markSubmitted(item, providerTaskId, now())) {
          await deps.store.countSubmitted(job.job_id, 1, now());
          stats.itemsUpdated += 1;
          changed.add(job.job_id);
        }
        return 'open';
      }
      const check = await deps.provider.check(item.provider_task_id);
      if (isFinalCheck(check)) {
        await finished(job, item, check);
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

/**
 * Hands a new job's items to the provider while time allows; whatever is left stays `queued` and
 * the poller submits it on its next run.
 */
export async function submitItems(
  deps: Pick<PollDeps, 'store' | 'provider' | 'clock' | 'hasTime' | 'warn'>,
  job: BatchJob,
  items: readonly BatchItem[],
  concurrency: number,
): Promise<number> {
  const limit = pLimit(concurrency);
  const now = () => deps.clock.now().toISOString();
  const submitted = await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (!deps.hasTime()) return false;
        try {
          const providerTaskId = await deps.provider.submit(requestFor(job, item));
          return await deps.store.markSubmitted(item, providerTaskId, now());
        } catch (error) {
          deps.warn('Submitting an item failed; the poller retries it', {
            job_id: job.job_id,
            item_id: item.item_id,
            reason: describeError(error),
          });
          return false;
        }
      }),
    ),
  );
  const count = submitted.filter(Boolean).length;
  if (count > 0) await deps.store.countSubmitted(job.job_id, count, now());
  return count;
}

/** A per-caller fixed-window limit: one token per call, or how long until the next window. */
export type RateLimiter = (
  owner: string,
  limit: number,
  now: Date,
) => Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;

/**
 * POST /batch-jobs: within the caller's rate limit, records the job and its items (`queued`), then
 * hands items to the provider while time allows. Answers the job as stored after submission.
 */
export async function submitBatchJob(
  deps: Pick<PollDeps, 'store' | 'provider' | 'clock' | 'hasTime' | 'warn'> & {
    rateLimit: RateLimiter;
    rateLimitPerMinute: number;
    submitConcurrency: number;
  },
  owner: string,
  body: CreateBatchJobBody,
  jobId: string,
): Promise<BatchJob> {
  const now = deps.clock.now();
  const rate = await deps.rateLimit(owner, deps.rateLimitPerMinute, now);
  if (!rate.allowed) {
    throw new TooManyRequestsError(
      rate.retryAfterSeconds,
      `Too many batch jobs; retry in ${rate.retryAfterSeconds} s`,
    );
  }
  const { job, items } = newBatchJob(body, owner, jobId, now.toISOString());
  await deps.store.createJob(job, items);
  await submitItems(deps, job, items, deps.submitConcurrency);
  return (await deps.store.getJob(job.job_id)) ?? job;
}
