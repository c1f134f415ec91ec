import { createHash } from 'node:crypto';
import { describeError, HttpError, NotFoundError, OffloadError, TooManyRequestsError } from '@offload/errors';
import {
  TERMINAL_JOB_STATUSES,
  type CreateJobBody,
  type Job,
  type JobRequested,
  type JobResult,
  type JobStatus,
  type LiveEvent,
  jobUpdated,
} from '@offload/messages';
import type { Caller } from '@offload/middleware';
import { priorityOf } from './callers';
import { runJob, type Llm } from './runner';

export interface JobStore {
  create(job: Job): Promise<void>;
  get(jobId: string): Promise<Job | undefined>;
  remove(jobId: string): Promise<void>;
  /** queued|processing -> processing, counting the attempt; undefined if in neither state. */
  start(jobId: string, now: string): Promise<Job | undefined>;
  /** Raises progress while processing; never lowers it. */
  progress(jobId: string, progress: number, now: string): Promise<void>;
  /** queued|processing -> succeeded|failed; false if the job had already finished. */
  finish(result: JobResult['data'], now: string): Promise<boolean>;
  /** Jobs still `processing` whose last write is older than `updatedBefore` (from an index). */
  staleProcessing(updatedBefore: string): Promise<Job[]>;
  /** processing -> failed, only if nothing wrote to the job since `job.updated_at`. */
  failStale(job: Job, error: string, now: string): Promise<boolean>;
  /** The owner's jobs, newest first, from the owner index (never a scan); `next` when more remain. */
  listByOwner(owner: string, page: JobPageRequest): Promise<{ jobs: Job[]; next?: JobPosition }>;
  /** queued -> cancelled at once; the job as written, or undefined if it was no longer queued. */
  cancelQueued(jobId: string, now: string): Promise<Job | undefined>;
  /** Flags a processing job for cancel; the job as written, or undefined if it was no longer processing. */
  requestCancel(jobId: string, now: string): Promise<Job | undefined>;
  /** Whether a cancel was requested: one small read, made between LLM steps. */
  cancelRequested(jobId: string): Promise<boolean>;
  /** queued|processing with a cancel requested -> cancelled; false if it had already finished. */
  finishCancelled(jobId: string, now: string): Promise<boolean>;
}

/** Where a page of the owner's jobs ends: the sort key of its last job. */
export interface JobPosition {
  created_at: string;
  job_id: string;
}

export interface JobPageRequest {
  status?: JobStatus;
  limit: number;
  after?: JobPosition;
}

export interface IdempotencyClaim {
  jobId: string;
  bodyHash: string;
}

/** Per-caller request controls, kept apart from jobs: idempotency keys and the rate limit. */
export interface Controls {
  /** Records the claim, or returns the existing one for this caller and key. */
  claimIdempotencyKey(
    owner: string,
    key: string,
    claim: IdempotencyClaim,
  ): Promise<IdempotencyClaim | undefined>;
  releaseIdempotencyKey(owner: string, key: string): Promise<void>;
  /** Counts one request in the caller's current minute, or says when the next one starts. */
  takeRateToken(
    owner: string,
    limit: number,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
}

export interface JobPublisher {
  publish(message: JobRequested): Promise<void>;
}

export interface ResultSender {
  send(message: JobResult): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** Where live-update events go; publishing never throws (see the events publisher). */
export interface EventSink {
  publish(event: LiveEvent): Promise<void>;
}

const NO_EVENTS: EventSink = { publish: async () => undefined };

export class IdempotencyKeyReusedError extends HttpError {
  constructor() {
    super(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different body');
  }
}

/** The request came before its job record (or without one): retry, the write may still land. */
export class JobNotFoundError extends OffloadError {}

/** The job's work did not finish within its invocation's time: stopped before Lambda kills it. */
export class JobDeadlineError extends OffloadError {}

/** The owner cancelled the job while it ran: it stops before its next LLM step. */
export class JobCancelledError extends OffloadError {}

/**
 * The time a job may run in an invocation with `remainingMs` left: a margin (10%, 1-10 s) stays
 * for sending the result and reporting the batch, so a slow job fails with a reason instead of
 * being killed without one.
 */
export function jobBudgetMs(remainingMs: number): number {
  return remainingMs - Math.min(10_000, Math.max(1000, remainingMs * 0.1));
}

async function withinBudget<T>(work: Promise<T>, budgetMs: number): Promise<T> {
  if (!Number.isFinite(budgetMs)) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new JobDeadlineError(`The job did not finish within its ${Math.round(budgetMs)} ms budget`)),
      Math.max(0, budgetMs),
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function canonicalHash(body: CreateJobBody): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(sorted(body)))
    .digest('hex');
}

export interface SubmitDeps {
  store: JobStore;
  controls: Controls;
  publisher: JobPublisher;
  clock: Clock;
  newId: () => string;
  rateLimitPerMinute: number;
}

export interface Submitted {
  job: Job;
  /** True when an Idempotency-Key replay returned the first job. */
  replayed: boolean;
}

/**
 * Accepts a job: rate limit, idempotency claim, record `queued`, publish. A replay with the same
 * key and body returns the first job and publishes nothing; if publishing fails the record and
 * the claim are undone so a retry can succeed.
 */
export async function submitJob(
  deps: SubmitDeps,
  caller: Caller,
  body: CreateJobBody,
  idempotencyKey?: string,
  traceId?: string,
): Promise<Submitted> {
  const jobId = deps.newId();
  const bodyHash = canonicalHash(body);
  if (idempotencyKey) {
    const existing = await deps.controls.claimIdempotencyKey(caller.userId, idempotencyKey, {
      jobId,
      bodyHash,
    });
    if (existing) {
      if (existing.bodyHash !== bodyHash) throw new IdempotencyKeyReusedError();
      const job = await deps.store.get(existing.jobId);
      if (job) return { job, replayed: true };
      // The first request holds the key but has not recorded its job yet: tell the client to retry.
      throw new HttpError(409, 'in_progress', 'A request with this Idempotency-Key is still being accepted');
    }
  }

  const now = deps.clock.now();
  const rate = await deps.controls.takeRateToken(caller.userId, deps.rateLimitPerMinute, now);
  if (!rate.allowed) {
    if (idempotencyKey) await deps.controls.releaseIdempotencyKey(caller.userId, idempotencyKey);
    throw new TooManyRequestsError(
      rate.retryAfterSeconds,
      `Too many jobs; retry in ${rate.retryAfterSeconds} s`,
    );
  }

  const iso = now.toISOString();
  const job: Job = {
    job_id: jobId,
    owner: caller.userId,
    type: body.type,
    config: body.config,
    priority: priorityOf(caller),
    status: 'queued',
    progress: 0,
    attempts: 0,
    created_at: iso,
    updated_at: iso,
  };
  await deps.store.create(job);
  try {
    await deps.publisher.publish({
      version: '1',
      type: 'job.requested',
      id: jobId,
      data: { job_id: jobId, job: body, priority: job.priority },
      metadata: { source: 'ai-jobs', ...(traceId && { traceId }) },
    });
  } catch (error) {
    await deps.store.remove(jobId);
    if (idempotencyKey) await deps.controls.releaseIdempotencyKey(caller.userId, idempotencyKey);
    throw error;
  }
  return { job, replayed: false };
}

export const isTerminal = (job: Job) => TERMINAL_JOB_STATUSES.includes(job.status);

/** The API view of a job: no owner, config or attempts. */
export function jobView(job: Job) {
  return {
    job_id: job.job_id,
    type: job.type,
    status: job.status,
    progress: job.progress,
    ...(job.result !== undefined && { result: job.result }),
    ...(job.error !== undefined && { error: job.error }),
    ...(job.cancel_requested && { cancel_requested: true }),
    created_at: job.created_at,
    updated_at: job.updated_at,
    ...(job.completed_at !== undefined && { completed_at: job.completed_at }),
  };
}
export type JobView = ReturnType<typeof jobView>;

/** What GET /jobs/{id} shows: another caller's job is indistinguishable from a missing one. */
export async function getJobFor(store: JobStore, jobId: string, caller: Caller) {
  const job = await store.get(jobId);
  if (!job || job.owner !== caller.userId) throw new NotFoundError(`Job ${jobId} not found`);
  return jobView(job);
}

export type ProcessOutcome = 'sent' | 'already-finished' | 'cancelled';

/**
 * Runs a requested job and sends its result to the response queue. A job that already finished
 * is not run again. A failure (an LLM error, or running past `budgetMs`) is retried by the queue;
 * on the last attempt a `failed` result is sent first, so the job ends failed with its error while
 * the message goes on to the DLQ.
 */
export async function processJob(
  deps: { store: JobStore; llm: Llm; results: ResultSender; clock: Clock; events?: EventSink },
  message: JobRequested,
  attempt: { isLast: boolean; budgetMs?: number },
): Promise<ProcessOutcome> {
  const { job_id: jobId, job } = message.data;
  const events = deps.events ?? NO_EVENTS;
  const started = await deps.store.start(jobId, deps.clock.now().toISOString());
  if (!started) {
    if (!(await deps.store.get(jobId))) throw new JobNotFoundError(`Job ${jobId} has no record`);
    return 'already-finished';
  }
  const source = 'ai-jobs.processor';
  let current = started;
  await events.publish(jobUpdated(current, source));
  const cancel = async (): Promise<ProcessOutcome> => {
    const now = deps.clock.now().toISOString();
    if (await deps.store.finishCancelled(jobId, now)) {
      await events.publish(
        jobUpdated({ ...current, status: 'cancelled', updated_at: now, cancel_requested: true }, source),
      );
    }
    return 'cancelled';
  };
  // Cancelled while queued for a retry: end it without another LLM call.
  if (started.cancel_requested) return cancel();
  const envelope = (data: JobResult['data']): JobResult => ({
    version: '1',
    type: 'job.result',
    id: jobId,
    data,
    metadata: {
      source: 'ai-jobs.processor',
      attempt: started.attempts,
      ...(message.metadata.traceId && { traceId: message.metadata.traceId }),
    },
  });
  let result: unknown;
  try {
    result = await withinBudget(
      runJob(job, deps.llm, async (progress) => {
        const now = deps.clock.now().toISOString();
        await deps.store.progress(jobId, progress, now);
        current = { ...current, progress, updated_at: now };
        await events.publish(jobUpdated(current, source));
        // Between LLM steps: a cancelled job makes no further call.
        if (progress < 1 && (await deps.store.cancelRequested(jobId))) {
          throw new JobCancelledError(`Job ${jobId} was cancelled by its owner`);
        }
      }),
      attempt.budgetMs ?? Number.POSITIVE_INFINITY,
    );
  } catch (error) {
    if (error instanceof JobCancelledError) return cancel();
    if (attempt.isLast) {
      await deps.results.send(
        envelope({
          job_id: jobId,
          status: 'failed',
          error: describeError(error),
          finished_at: deps.clock.now().toISOString(),
        }),
      );
    }
    throw error;
  }
  await deps.results.send(
    envelope({ job_id: jobId, status: 'succeeded', result, finished_at: deps.clock.now().toISOString() }),
  );
  return 'sent';
}

/**
 * Writes a job's final state once; a redelivered or late result never overwrites it. A job whose
 * owner asked to cancel it while its last step ran ends `cancelled`, as its DELETE promised.
 */
export async function recordResult(
  store: JobStore,
  message: JobResult,
  clock: Clock,
  events: EventSink = NO_EVENTS,
): Promise<boolean> {
  const now = clock.now().toISOString();
  const written =
    (await store.finish(message.data, now)) || (await store.finishCancelled(message.data.job_id, now));
  if (written) {
    // The final state as stored (status, error, progress): subscribers always get it.
    const job = await store.get(message.data.job_id);
    if (job) await events.publish(jobUpdated(job, 'ai-jobs.recorder'));
  }
  return written;
}

export const STALE_JOB_ERROR =
  'The job stopped without a result: its processor ended before finishing on every attempt (crash or kill)';

/**
 * Ends jobs stuck in `processing`: a processor that crashes outright on every attempt leaves no
 * result, and the request reaches the DLQ through the redrive policy alone. A job untouched for
 * longer than every attempt could take (`staleAfterMs`) is failed with the reason; a job that
 * wrote anything meanwhile is left alone.
 */
export async function sweepStaleJobs(
  deps: { store: JobStore; clock: Clock; events?: EventSink },
  staleAfterMs: number,
): Promise<{ found: number; failed: number }> {
  const now = deps.clock.now();
  const cutoff = new Date(now.getTime() - staleAfterMs).toISOString();
  const stale = await deps.store.staleProcessing(cutoff);
  let failed = 0;
  for (const job of stale) {
    if (await deps.store.failStale(job, STALE_JOB_ERROR, now.toISOString())) {
      failed += 1;
      const ended = {
        ...job,
        status: 'failed' as const,
        error: STALE_JOB_ERROR,
        updated_at: now.toISOString(),
      };
      await (deps.events ?? NO_EVENTS).publish(jobUpdated(ended, 'ai-jobs.sweeper'));
    }
  }
  return { found: stale.length, failed };
}
