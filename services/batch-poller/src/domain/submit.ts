import type { Clock } from '@offload/config';
import pLimit from 'p-limit';
import {
  ConflictError,
  describeError,
  IdempotencyKeyReusedError,
  TooManyRequestsError,
} from '@offload/errors';
import type { BatchItem, BatchJob, CreateBatchJobBody } from '@offload/messages';
import {
  maxTokensFor,
  newBatchJob,
  ProviderRejectedError,
  requestFor,
  type BatchProvider,
  type BatchStore,
} from './batchJobs';
import { chargeBudget, type BudgetLedger, type BudgetWindow, type Tier, type TierBudgets } from './budget';

export interface SubmitDeps {
  store: BatchStore;
  provider: BatchProvider;
  clock: Clock;
  /** False once there is no longer time to start a provider call and record its answer. */
  hasTime(): boolean;
  /** A fresh random token (claim tokens, submit keys). */
  newToken(): string;
  warn(message: string, fields: Record<string, unknown>): void;
}

export interface SubmitOptions {
  /**
   * Age after which a submit claim is taken over. Longer than any function that can hold one runs
   * (its timeout), so the holder has surely ended before anyone else submits the item.
   */
  claimStaleMs: number;
  /** The output-token ceiling for jobs recorded without one. */
  defaultMaxTokens: number;
}

export type SubmitResult = 'submitted' | 'held' | 'error';

/**
 * Claim, then submit: exactly one submitter (the POST handler or any poller run) moves an item
 * `queued -> submitting` with a conditional write and only then calls the provider, with the
 * item's submit key as the POSTs' idempotency key. Another submitter finds the claim and leaves
 * the item alone ('held'); one that takes over a stale claim reuses the key, so the provider
 * answers the batch the crashed holder created instead of creating a second. A failure releases
 * the claim for a later pass; a definite rejection (nothing created) also renews the key.
 */
export async function submitItem(
  deps: SubmitDeps,
  options: SubmitOptions,
  job: BatchJob,
  item: BatchItem,
): Promise<SubmitResult> {
  const now = deps.clock.now();
  const token = deps.newToken();
  const claimed = await deps.store.claimItem(item, {
    token,
    now: now.toISOString(),
    staleBefore: new Date(now.getTime() - options.claimStaleMs).toISOString(),
    submitKey: deps.newToken(),
  });
  if (!claimed?.submit_key) return 'held';
  const at = () => deps.clock.now().toISOString();
  try {
    const request = requestFor(job, { ...claimed, submit_key: claimed.submit_key }, options.defaultMaxTokens);
    const providerTaskId = await deps.provider.submit(request);
    return (await deps.store.markSubmitted(claimed, token, providerTaskId, at())) ? 'submitted' : 'held';
  } catch (error) {
    deps.warn('Submitting an item failed; a later poll retries it', {
      job_id: job.job_id,
      item_id: item.item_id,
      reason: describeError(error),
    });
    await deps.store
      .releaseClaim(claimed, token, error instanceof ProviderRejectedError, at())
      .catch((releaseError: unknown) =>
        // The claim then goes stale and the next run after claimStaleMs takes it over.
        deps.warn('Releasing a submit claim failed', {
          job_id: job.job_id,
          item_id: item.item_id,
          reason: describeError(releaseError),
        }),
      );
    return 'error';
  }
}

/**
 * Hands a new job's items to the provider while time allows; whatever is left stays `queued` and
 * the poller submits it on its next run. Answers how many this call submitted (and counted).
 */
export async function submitItems(
  deps: SubmitDeps,
  options: SubmitOptions,
  job: BatchJob,
  items: readonly BatchItem[],
  concurrency: number,
): Promise<number> {
  const limit = pLimit(concurrency);
  const results = await Promise.all(
    items.map((item) => limit(async () => (deps.hasTime() ? submitItem(deps, options, job, item) : 'held'))),
  );
  const count = results.filter((r) => r === 'submitted').length;
  await deps.store.countItems(job.job_id, { submitted: count }, deps.clock.now().toISOString());
  return count;
}

/** Per-caller request controls: idempotency keys and the per-minute rate limit. */
export interface BatchControls {
  /** Records the claim, or returns the existing one for this caller and key. */
  claimIdempotencyKey(
    owner: string,
    key: string,
    claim: { jobId: string; bodyHash: string },
  ): Promise<{ jobId: string; bodyHash: string } | undefined>;
  releaseIdempotencyKey(owner: string, key: string): Promise<void>;
  takeRateToken(
    owner: string,
    limit: number,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
}

export interface CreateDeps extends SubmitDeps {
  controls: BatchControls;
  budget: BudgetLedger;
  budgets: TierBudgets;
  rateLimitPerMinute: number;
  submitConcurrency: number;
  /** The service's max_tokens ceiling (and the default when a job gives none). */
  maxTokens: number;
  claimStaleMs: number;
  newId(): string;
}

export interface CreateRequest {
  caller: { userId: string; tier: Tier };
  body: CreateBatchJobBody;
  idempotency?: { key: string; bodyHash: string };
}

export interface Created {
  job: BatchJob;
  /** True when an Idempotency-Key replay returned the first job. */
  replayed: boolean;
}

/** The first request's job for a replayed key, or why there is none to return. */
async function replayOf(
  deps: CreateDeps,
  existing: { jobId: string; bodyHash: string },
  bodyHash: string,
): Promise<Created> {
  if (existing.bodyHash !== bodyHash) throw new IdempotencyKeyReusedError();
  const job = await deps.store.getJob(existing.jobId);
  if (job) return { job, replayed: true };
  // The first request holds the key but has not recorded its job yet: tell the client to retry.
  throw new ConflictError('in_progress', 'A request with this Idempotency-Key is still being accepted');
}

/** Rate limit, item budget, then the records; anything refused or failed here records nothing. */
async function recordJob(deps: CreateDeps, request: CreateRequest, jobId: string, maxTokens: number) {
  const { caller, body } = request;
  const now = deps.clock.now();
  const rate = await deps.controls.takeRateToken(caller.userId, deps.rateLimitPerMinute, now);
  if (!rate.allowed) {
    throw new TooManyRequestsError(
      rate.retryAfterSeconds,
      `Too many batch jobs; retry in ${rate.retryAfterSeconds} s`,
    );
  }
  const items = body.items.length;
  const window: BudgetWindow = await chargeBudget(
    deps.budget,
    caller.userId,
    deps.budgets[caller.tier],
    items,
    now,
  );
  const created = newBatchJob(body, caller.userId, jobId, now.toISOString(), maxTokens);
  try {
    await deps.store.createJob(created.job, created.items);
  } catch (error) {
    await deps.budget
      .refund(caller.userId, window, items)
      .catch((refundError: unknown) =>
        deps.warn('Refunding an item budget failed', { reason: describeError(refundError) }),
      );
    throw error;
  }
  return created;
}

/**
 * POST /batch-jobs: validates max_tokens, claims the Idempotency-Key (a replay with the same body
 * answers the first job and calls nothing else), takes a rate token, charges the items to the
 * caller's budget, records the job and its items (`queued`), then submits items while time allows.
 * If anything before the records fails, the key is released so a retry can succeed.
 */
export async function submitBatchJob(deps: CreateDeps, request: CreateRequest): Promise<Created> {
  const { caller, idempotency } = request;
  const maxTokens = maxTokensFor(request.body, deps.maxTokens);
  const jobId = deps.newId();
  if (idempotency) {
    const existing = await deps.controls.claimIdempotencyKey(caller.userId, idempotency.key, {
      jobId,
      bodyHash: idempotency.bodyHash,
    });
    if (existing) return replayOf(deps, existing, idempotency.bodyHash);
  }
  let created: Awaited<ReturnType<typeof recordJob>>;
  try {
    created = await recordJob(deps, request, jobId, maxTokens);
  } catch (error) {
    if (idempotency) await deps.controls.releaseIdempotencyKey(caller.userId, idempotency.key);
    throw error;
  }
  const options = { claimStaleMs: deps.claimStaleMs, defaultMaxTokens: deps.maxTokens };
  await submitItems(deps, options, created.job, created.items, deps.submitConcurrency);
  return { job: (await deps.store.getJob(jobId)) ?? created.job, replayed: false };
}
