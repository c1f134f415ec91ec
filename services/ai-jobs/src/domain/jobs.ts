import type { Clock } from '@offload/config';
import {
  ConflictError,
  describeError,
  IdempotencyKeyReusedError,
  NotFoundError,
  OffloadError,
  PublicFailureError,
  processOnce,
  publicFailureOf,
  TooManyRequestsError,
  type Attempt,
  type PublicFailure,
} from '@offload/errors';
import {
  buildEnvelope,
  canonicalBodyHash,
  createJobBodySchema,
  jobRequested,
  jobResultV2,
  type Caller,
  TERMINAL_JOB_STATUSES,
  type CreateJobBody,
  type Job,
  type JobOutcome,
  type JobRequested,
  type JobResult,
  type JobResultV2,
  type JobStatus,
  type LiveEvent,
  jobUpdated,
} from '@offload/messages';
import { priorityOf } from './callers';
import { llmCallsFor, runJob, type Llm } from './runner';

export interface JobStore {
  create(job: Job): Promise<void>;
  get(jobId: string): Promise<Job | undefined>;
  remove(jobId: string): Promise<void>;
  /** queued|processing -> processing, counting the attempt; undefined if in neither state. */
  start(jobId: string, now: string): Promise<Job | undefined>;
  /** Raises progress while processing; never lowers it. */
  progress(jobId: string, progress: number, now: string): Promise<void>;
  /** queued|processing -> succeeded|failed; the job as written, or undefined if it had already finished. */
  finish(result: JobOutcome, now: string): Promise<Job | undefined>;
  /** Jobs still `processing` whose last write is older than `updatedBefore` (from an index). */
  staleProcessing(updatedBefore: string): Promise<Job[]>;
  /** Jobs still `queued` whose last write is older than `updatedBefore` (from the same index). */
  staleQueued(updatedBefore: string): Promise<Job[]>;
  /** Counts a re-publish of a queued job, only if nothing wrote to it since `job.updated_at`. */
  markRepublished(job: Job, now: string): Promise<boolean>;
  /** queued|processing -> failed, only if nothing wrote to the job since `job.updated_at`. */
  failStale(job: Job, error: PublicFailure, now: string): Promise<boolean>;
  /** The owner's jobs, newest first, from the owner index (never a scan); `next` when more remain. */
  listByOwner(owner: string, page: JobPageRequest): Promise<{ jobs: Job[]; next?: JobPosition }>;
  /** queued -> cancelled at once; the job as written, or undefined if it was no longer queued. */
  cancelQueued(jobId: string, now: string): Promise<Job | undefined>;
  /** Flags a processing job for cancel; the job as written, or undefined if it was no longer processing. */
  requestCancel(jobId: string, now: string): Promise<Job | undefined>;
  /** Whether a cancel was requested: one small read, made between LLM steps. */
  cancelRequested(jobId: string): Promise<boolean>;
  /** queued|processing with a cancel requested -> cancelled; the job as written, or undefined if it had already finished. */
  finishCancelled(jobId: string, now: string): Promise<Job | undefined>;
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

export type Allowance = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Per-caller request controls, kept apart from jobs: idempotency keys, the rate limit, the LLM budget. */
export interface Controls {
  /** Records the claim, or returns the existing one for this caller and key. */
  claimIdempotencyKey(
    owner: string,
    key: string,
    claim: IdempotencyClaim,
  ): Promise<IdempotencyClaim | undefined>;
  releaseIdempotencyKey(owner: string, key: string): Promise<void>;
  /** Counts one request in the caller's current minute, or says when the next one starts. */
  takeRateToken(owner: string, limit: number, now: Date): Promise<Allowance>;
  /**
   * Charges `calls` LLM calls to the caller's budget for the hour holding `now`, atomically, only if
   * the hour's total stays within `limit`; otherwise charges nothing and says when the hour ends.
   */
  chargeLlmCalls(owner: string, calls: number, limit: number, now: Date): Promise<Allowance>;
  /** Gives back a charge made at `now` for a job that was never accepted. */
  refundLlmCalls(owner: string, calls: number, now: Date): Promise<void>;
}

/** What one tier of caller may spend. */
export interface TierLimits {
  requestsPerMinute: number;
  /** LLM calls per hour, charged at submit with each job's worst case (llmCallsFor). */
  llmCallsPerHour: number;
}
export type Limits = Record<Caller['tier'], TierLimits>;

export interface JobPublisher {
  publish(message: JobRequested): Promise<void>;
}

export interface ResultSender {
  send(message: JobResult): Promise<void>;
}

/** Where live-update events go; publishing never throws (see the events publisher). */
export interface EventSink {
  publish(event: LiveEvent): Promise<void>;
}

const NO_EVENTS: EventSink = { publish: async () => undefined };

/** The caller's LLM-call budget for this hour cannot cover the job's worst case. */
export class BudgetExceededError extends TooManyRequestsError {
  override readonly code = 'budget_exceeded';
}

/** The job's work did not finish within its invocation's time: stopped before Lambda kills it. */
export class JobDeadlineError extends PublicFailureError {
  constructor(message: string) {
    super('job_timeout', message);
  }
}

/** The model failed to answer (after the SDK's own retries); the provider's text stays in the logs. */
export class LlmFailedError extends PublicFailureError {
  constructor(cause: unknown) {
    super('llm_failed', 'The language model did not answer; submit the job again later', { cause });
  }
}

/** The result exceeds what the response queue or the job record can hold. */
export class ResultTooLargeError extends PublicFailureError {
  constructor(bytes: number) {
    super(
      'result_too_large',
      `The result is ${bytes} bytes; results are limited to ${RESULT_MAX_BYTES} bytes. Ask for a shorter answer or fewer agents/rounds`,
    );
  }
}

/** The finished result could not be sent on for recording. */
export class ResultUndeliverableError extends PublicFailureError {
  constructor(cause: unknown) {
    super('result_undeliverable', 'The result could not be delivered for recording', { cause });
  }
}

/**
 * The largest result message sent to the response queue: the classic SQS message limit. It also
 * keeps the job record (result plus a config of at most 32 KB and a few small fields) far below
 * DynamoDB's 400 KB item limit, which RECORD_MAX_BYTES checks besides.
 */
export const RESULT_MAX_BYTES = 256 * 1024;
export const RECORD_MAX_BYTES = 400 * 1000;
// Attribute names, status, timestamps and ids of a job record, with room to spare.
const RECORD_OVERHEAD_BYTES = 2048;

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

export interface SubmitDeps {
  store: JobStore;
  controls: Controls;
  publisher: JobPublisher;
  clock: Clock;
  newId: () => string;
  limits: Limits;
}

export interface Submitted {
  job: Job;
  /** True when an Idempotency-Key replay returned the first job. */
  replayed: boolean;
}

/**
 * Accepts a job: idempotency claim, rate limit, LLM budget (the job's worst-case call count), record
 * `queued`, publish. Over the rate limit or the budget nothing is recorded or published. A replay
 * with the same key and body returns the first job and is not charged again; if anything after the
 * claim fails, the record, the charge and the claim are undone so a retry can succeed.
 */
export async function submitJob(
  deps: SubmitDeps,
  caller: Caller,
  body: CreateJobBody,
  idempotencyKey?: string,
  traceId?: string,
): Promise<Submitted> {
  const jobId = deps.newId();
  if (idempotencyKey) {
    const replay = await replayOf(deps, caller, idempotencyKey, { jobId, bodyHash: canonicalBodyHash(body) });
    if (replay) return replay;
  }
  const now = deps.clock.now();
  const calls = llmCallsFor(body);
  let charged = false;
  let recorded = false;
  try {
    await admit(deps.controls, caller, deps.limits[caller.tier], calls, now);
    charged = true;
    const job = queuedJob(jobId, caller, body, now);
    await deps.store.create(job);
    recorded = true;
    await deps.publisher.publish(requestOf(jobId, body, job.priority, 'ai-jobs', traceId));
    return { job, replayed: false };
  } catch (error) {
    await undoSubmit(deps, caller, { jobId, calls, now, idempotencyKey, charged, recorded });
    throw error;
  }
}

/**
 * Claims the Idempotency-Key for this request; undefined when the claim is new. A key already held
 * answers the first job for the same body, and refuses another body or a first request still
 * being accepted.
 */
async function replayOf(
  deps: SubmitDeps,
  caller: Caller,
  idempotencyKey: string,
  claim: { jobId: string; bodyHash: string },
): Promise<Submitted | undefined> {
  const existing = await deps.controls.claimIdempotencyKey(caller.userId, idempotencyKey, claim);
  if (!existing) return undefined;
  if (existing.bodyHash !== claim.bodyHash) throw new IdempotencyKeyReusedError();
  const job = await deps.store.get(existing.jobId);
  if (job) return { job, replayed: true };
  // The first request holds the key but has not recorded its job yet: tell the client to retry.
  throw new ConflictError('in_progress', 'A request with this Idempotency-Key is still being accepted');
}

/** Takes a rate token and charges the job's worst-case LLM calls; throws when either says no. */
async function admit(controls: Controls, caller: Caller, limits: TierLimits, calls: number, now: Date) {
  const rate = await controls.takeRateToken(caller.userId, limits.requestsPerMinute, now);
  if (!rate.allowed) {
    throw new TooManyRequestsError(
      rate.retryAfterSeconds,
      `Too many jobs; retry in ${rate.retryAfterSeconds} s`,
    );
  }
  const budget = await controls.chargeLlmCalls(caller.userId, calls, limits.llmCallsPerHour, now);
  if (!budget.allowed) {
    throw new BudgetExceededError(
      budget.retryAfterSeconds,
      `This job may make ${calls} LLM calls, more than is left of your ${limits.llmCallsPerHour} per hour; retry in ${budget.retryAfterSeconds} s`,
    );
  }
}

function queuedJob(jobId: string, caller: Caller, body: CreateJobBody, now: Date): Job {
  const iso = now.toISOString();
  return {
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
}

/**
 * Undoes what a failed submit did, in an order that never frees the key while a record it names
 * remains. The first error is the one the caller sees, so a failure here only stops the undo.
 */
async function undoSubmit(
  deps: SubmitDeps,
  caller: Caller,
  done: {
    jobId: string;
    calls: number;
    now: Date;
    idempotencyKey?: string;
    charged: boolean;
    recorded: boolean;
  },
) {
  try {
    if (done.recorded) await deps.store.remove(done.jobId);
    if (done.charged) await deps.controls.refundLlmCalls(caller.userId, done.calls, done.now);
    if (done.idempotencyKey) await deps.controls.releaseIdempotencyKey(caller.userId, done.idempotencyKey);
  } catch {
    // Left as is: a stuck claim expires with its TTL, and a record left queued is swept.
  }
}

function requestOf(
  jobId: string,
  job: CreateJobBody,
  priority: Job['priority'],
  source: string,
  traceId?: string,
): JobRequested {
  return buildEnvelope(jobRequested, jobId, { job_id: jobId, job, priority }, { source, traceId });
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

export type ProcessOutcome = 'sent' | 'already-finished' | 'undeliverable' | 'cancelled';

/** Why a job failed without the work throwing (its result could not be delivered), for the logs. */
export interface ProcessReport {
  outcome: ProcessOutcome;
  failure?: PublicFailure;
  reason?: string;
}

function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Wraps every LLM failure in a public one; the provider's own text stays in the cause chain. */
const publicLlm = (llm: Llm): Llm => ({
  async complete(messages) {
    try {
      return await llm.complete(messages);
    } catch (error) {
      throw new LlmFailedError(error);
    }
  },
});

type ProcessDeps = { store: JobStore; llm: Llm; results: ResultSender; clock: Clock; events?: EventSink };

/**
 * Runs a requested job once (processOnce) and sends its result to the response queue. A job that
 * already finished is not run again; one not written yet is retried. A failure (an LLM error, or
 * running past `budgetMs`) is retried by the queue; on the last attempt a `failed` result is sent
 * first, so the job ends failed with its public error while the message goes on to the DLQ.
 *
 * A result that cannot be delivered never leaves the job `processing`: one too large for the
 * response queue or the job record, or one the queue rejects, is replaced by a small `failed`
 * result with a public code (`result_too_large`, `result_undeliverable`). Running the job again
 * would spend the same LLM calls on the same outcome, so this is not retried.
 */
export function processJob(
  deps: ProcessDeps,
  message: JobRequested,
  attempt: Attempt & { budgetMs?: number },
): Promise<ProcessReport> {
  const { job_id: jobId } = message.data;
  const now = () => deps.clock.now().toISOString();
  return processOnce<Job, ProcessReport>(
    {
      record: `Job ${jobId}`,
      start: () => deps.store.start(jobId, now()),
      exists: async () => (await deps.store.get(jobId)) !== undefined,
      alreadyDone: { outcome: 'already-finished' },
      work: (started) => runStarted(deps, message, started, attempt.budgetMs),
      fail: (started, failure) => deps.results.send(failedResult(message, started, failure, now())),
    },
    attempt,
  );
}

/** The response-queue message carrying a job's outcome, with the attempt that produced it. */
function resultMessage(message: JobRequested, started: Job, data: JobOutcome): JobResultV2 {
  return buildEnvelope(jobResultV2, data.job_id, data, {
    source: 'ai-jobs.processor',
    attempt: started.attempts,
    traceId: message.metadata.traceId,
  });
}

/** The result that ends a job failed with its public failure. */
function failedResult(message: JobRequested, started: Job, failure: PublicFailure, finishedAt: string) {
  return resultMessage(message, started, {
    job_id: message.data.job_id,
    status: 'failed',
    error: failure,
    finished_at: finishedAt,
  });
}

/** A claimed job: run it (or end it cancelled) and send its result on, replaced if undeliverable. */
async function runStarted(
  deps: ProcessDeps,
  message: JobRequested,
  started: Job,
  budgetMs = Number.POSITIVE_INFINITY,
): Promise<ProcessReport> {
  const { job_id: jobId, job } = message.data;
  const events = deps.events ?? NO_EVENTS;
  const source = 'ai-jobs.processor';
  let current = started;
  await events.publish(jobUpdated(current, source));
  const cancel = async (): Promise<ProcessReport> => {
    const cancelled = await deps.store.finishCancelled(jobId, deps.clock.now().toISOString());
    if (cancelled) await events.publish(jobUpdated(cancelled, source));
    return { outcome: 'cancelled' };
  };
  // Cancelled while queued for a retry: end it without another LLM call.
  if (started.cancel_requested) return cancel();
  const finishedAt = () => deps.clock.now().toISOString();
  const failed = (error: PublicFailureError) => failedResult(message, started, error.failure, finishedAt());

  let result: unknown;
  try {
    result = await withinBudget(
      runJob(job, publicLlm(deps.llm), async (progress) => {
        const now = deps.clock.now().toISOString();
        await deps.store.progress(jobId, progress, now);
        current = { ...current, progress, updated_at: now };
        await events.publish(jobUpdated(current, source));
        // Between LLM steps (the runner reports none after the last): a cancelled job makes no
        // further call.
        if (await deps.store.cancelRequested(jobId)) {
          throw new JobCancelledError(`Job ${jobId} was cancelled by its owner`);
        }
      }),
      budgetMs,
    );
  } catch (error) {
    if (error instanceof JobCancelledError) return cancel();
    throw error;
  }

  const succeeded = resultMessage(message, started, {
    job_id: jobId,
    status: 'succeeded',
    result,
    finished_at: finishedAt(),
  });
  const messageBytes = byteLength(succeeded);
  const recordBytes = byteLength(result) + byteLength(started.config) + RECORD_OVERHEAD_BYTES;
  if (messageBytes > RESULT_MAX_BYTES || recordBytes > RECORD_MAX_BYTES) {
    const error = new ResultTooLargeError(Math.max(messageBytes, recordBytes));
    await deps.results.send(failed(error));
    return { outcome: 'undeliverable', failure: error.failure, reason: describeError(error) };
  }
  try {
    await deps.results.send(succeeded);
  } catch (sendError) {
    // The SDK has already retried transient faults; what is left is a rejection of this message.
    const error = new ResultUndeliverableError(sendError);
    await deps.results.send(failed(error));
    return { outcome: 'undeliverable', failure: error.failure, reason: describeError(error) };
  }
  return { outcome: 'sent' };
}

/**
 * Writes a job's final state once; a redelivered or late result never overwrites it. A v1 failed
 * result carries the internal error chain as text: it is recorded as the generic internal failure.
 * A job whose owner asked to cancel it while its last step ran ends `cancelled`, as its DELETE
 * promised.
 */
export async function recordResult(
  store: JobStore,
  message: JobResult,
  clock: Clock,
  events: EventSink = NO_EVENTS,
): Promise<boolean> {
  const data: JobOutcome =
    message.version === '1' && message.data.status === 'failed'
      ? { ...message.data, error: publicFailureOf(message.data.error) }
      : (message.data as JobOutcome);
  const now = clock.now().toISOString();
  const written = (await store.finish(data, now)) ?? (await store.finishCancelled(data.job_id, now));
  // The final state as stored (status, error, progress), which the write returns: subscribers
  // always get it.
  if (written) await events.publish(jobUpdated(written, 'ai-jobs.recorder'));
  return written !== undefined;
}

export const STALE_JOB_FAILURE: PublicFailure = {
  code: 'job_stalled',
  message: 'The job stopped without a result: its processor ended before finishing on every attempt',
};

export const NOT_STARTED_FAILURE: PublicFailure = {
  code: 'job_not_started',
  message: 'The job was never picked up for processing; submit it again',
};

export interface SweepOptions {
  /** A `processing` job untouched this long has outlived every attempt. */
  staleAfterMs: number;
  /** A `queued` job untouched this long was never delivered to a processor (or its delivery was lost). */
  queuedAfterMs: number;
  /** Re-publishes of a stuck queued job before it is failed. */
  maxRepublishes: number;
}

export interface SweepReport {
  found: number;
  failed: number;
  republished: number;
}

/**
 * Ends jobs stuck in `processing`: a processor that crashes outright on every attempt leaves no
 * result, and the request reaches the DLQ through the redrive policy alone. A job untouched for
 * longer than every attempt could take is failed with a public reason; a job that wrote anything
 * meanwhile is left alone.
 *
 * Jobs stuck `queued` (a delivery from the topic that never arrived) are published again, which
 * idempotent processing makes safe, and failed with a public reason after `maxRepublishes` tries.
 */
export async function sweepStaleJobs(
  deps: { store: JobStore; clock: Clock; publisher: JobPublisher; events?: EventSink },
  options: SweepOptions,
): Promise<SweepReport> {
  const now = deps.clock.now();
  const iso = now.toISOString();
  const before = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const report: SweepReport = { found: 0, failed: 0, republished: 0 };
  const events = deps.events ?? NO_EVENTS;

  const stale = await deps.store.staleProcessing(before(options.staleAfterMs));
  report.found += stale.length;
  for (const job of stale) {
    if (await deps.store.failStale(job, STALE_JOB_FAILURE, iso)) {
      report.failed += 1;
      await events.publish(
        jobUpdated(
          { ...job, status: 'failed', error: STALE_JOB_FAILURE, updated_at: iso },
          'ai-jobs.sweeper',
        ),
      );
    }
  }

  const queued = await deps.store.staleQueued(before(options.queuedAfterMs));
  report.found += queued.length;
  for (const job of queued) {
    const body = createJobBodySchema.safeParse({ type: job.type, config: job.config });
    if (!body.success || (job.republished ?? 0) >= options.maxRepublishes) {
      if (await deps.store.failStale(job, NOT_STARTED_FAILURE, iso)) {
        report.failed += 1;
        await events.publish(
          jobUpdated(
            { ...job, status: 'failed', error: NOT_STARTED_FAILURE, updated_at: iso },
            'ai-jobs.sweeper',
          ),
        );
      }
      continue;
    }
    if (!(await deps.store.markRepublished(job, iso))) continue;
    await deps.publisher.publish(requestOf(job.job_id, body.data, job.priority, 'ai-jobs.sweeper'));
    report.republished += 1;
  }
  return report;
}
