import {
  NotFoundError,
  OffloadError,
  publicFailureOf,
  ValidationError,
  type PublicFailure,
} from '@offload/errors';
import {
  isTerminalItemStatus,
  type BatchItem,
  type BatchItemStatus,
  type BatchJob,
  type BatchJobStatus,
  type CreateBatchJobBody,
  type LiveEvent,
} from '@offload/messages';

/** Where live-update events go; publishing never throws (see the events publisher). */
export interface EventSink {
  publish(event: LiveEvent): Promise<void>;
}

export const NO_EVENTS: EventSink = { publish: async () => undefined };

/** What the provider says about one submitted item. */
export type ProviderCheck =
  | { status: 'validating' | 'in_progress' | 'finalizing' | 'cancelling' }
  | { status: 'succeeded'; result: string; files: string[] }
  /** `failure` is an error chain: its PublicFailureError (if any) is what the client sees. */
  | { status: 'failed' | 'expired' | 'cancelled'; failure: unknown; files: string[] };

export type FinalCheck = Extract<ProviderCheck, { files: string[] }>;

/** A terminal item as stored: the result, or the public failure; plus the provider files to delete. */
export type ItemOutcome = (
  | { status: 'succeeded'; result: string }
  | { status: 'failed' | 'expired' | 'cancelled'; error: PublicFailure }
) & { files: string[] };

export interface ItemRequest {
  jobId: string;
  itemId: string;
  input: string;
  system?: string;
  /** Output-token ceiling sent in the item's request body. */
  maxTokens: number;
  /**
   * Idempotency key for the provider POSTs: the same for every submitter of this item until a
   * definite rejection, so a retry or a takeover after a crash finds the batch already created.
   */
  submitKey: string;
}

/** The provider's batch API, as the domain needs it. */
export interface BatchProvider {
  /** Hands one item to the provider; answers the provider's id for it. */
  submit(request: ItemRequest): Promise<string>;
  check(providerTaskId: string): Promise<ProviderCheck>;
  /** Deletes an uploaded or produced file; a file already gone counts as deleted. */
  deleteFile(fileId: string): Promise<void>;
  /** Asks the provider to cancel a submitted item; its checks then end `cancelled` (or done anyway). */
  cancel(providerTaskId: string): Promise<void>;
}

/** Where a page of the owner's batch jobs ends: the sort key of its last job. */
export interface BatchJobPosition {
  created_at: string;
  job_id: string;
}

/**
 * The provider refused the request outright (a 4xx other than 408/409/429): nothing was created,
 * so a later attempt may use a fresh idempotency key.
 */
export class ProviderRejectedError extends OffloadError {}

/** What one run adds to a job's counters: items it submitted, and items it ended by outcome. */
export interface ItemCounts {
  submitted?: number;
  succeeded?: number;
  /** Failed, expired and cancelled items alike. */
  failed?: number;
}

/** The counter an item's outcome adds to. */
export const countOf = (outcome: ItemOutcome['status']): ItemCounts =>
  outcome === 'succeeded' ? { succeeded: 1 } : { failed: 1 };

/** Two counts added up. */
export const addCounts = (a: ItemCounts, b: ItemCounts): ItemCounts => ({
  submitted: (a.submitted ?? 0) + (b.submitted ?? 0),
  succeeded: (a.succeeded ?? 0) + (b.succeeded ?? 0),
  failed: (a.failed ?? 0) + (b.failed ?? 0),
});

export interface Totals {
  processed_items: number;
  succeeded_items: number;
  failed_items: number;
}

export interface ItemPage {
  items: BatchItem[];
  next?: string;
}

export interface SubmitClaim {
  token: string;
  now: string;
  /** A claim taken before this instant is stale: its holder has ended (crashed or timed out). */
  staleBefore: string;
  /** The idempotency key to use if the item has none yet. */
  submitKey: string;
}

/** Every write that guards a state is conditional, so overlapping runs cannot apply it twice. */
export interface BatchStore {
  createJob(job: BatchJob, items: BatchItem[]): Promise<void>;
  getJob(jobId: string): Promise<BatchJob | undefined>;
  listItems(jobId: string, limit: number, after?: string): Promise<ItemPage>;
  /** Jobs still `queued` or `running`, from an index (never a scan). */
  activeJobs(): Promise<BatchJob[]>;
  /** Up to `limit` non-terminal items of a job, from an index. */
  openItems(jobId: string, limit: number): Promise<BatchItem[]>;
  /** Every item of a job, read consistently. */
  allItems(jobId: string): Promise<BatchItem[]>;
  /**
   * `queued` (or `submitting` with a stale claim) -> `submitting` held by `claim.token`, keeping
   * an existing submit key; answers the claimed item, or undefined if another submitter holds it
   * or it was already submitted.
   */
  claimItem(item: BatchItem, claim: SubmitClaim): Promise<BatchItem | undefined>;
  /** `submitting` held by `token` -> `validating` with the provider's id; false if the claim was lost. */
  markSubmitted(item: BatchItem, token: string, providerTaskId: string, now: string): Promise<boolean>;
  /** `submitting` held by `token` -> `queued` for a later attempt; `renewKey` drops the submit key. */
  releaseClaim(item: BatchItem, token: string, renewKey: boolean, now: string): Promise<void>;
  /** A non-terminal status change (and a poll count); a no-op once the item is terminal. */
  markProgress(item: BatchItem, status: BatchItemStatus, now: string): Promise<void>;
  /**
   * Non-terminal -> terminal, once: true only for the write that made the transition. The
   * outcome's files are kept as pending clean-up until `clearCleanup`.
   */
  finishItem(item: BatchItem, outcome: ItemOutcome, now: string): Promise<boolean>;
  /** Up to `limit` terminal items whose provider files are still to delete, from a sparse index. */
  pendingCleanups(limit: number): Promise<BatchItem[]>;
  clearCleanup(item: BatchItem): Promise<void>;
  /**
   * Adds to the job's counters in one atomic write (`running` once anything was submitted), only
   * for items whose transition this run won; nothing on a resolved job. A run adds up its items
   * first, so a crash before the write leaves the counters behind until the job resolves, which
   * recounts them from the items.
   */
  countItems(jobId: string, counts: ItemCounts, now: string): Promise<void>;
  /** `queued|running` -> final status with totals recounted from the items; false if already resolved. */
  resolveJob(jobId: string, status: BatchJobStatus, totals: Totals, now: string): Promise<boolean>;
  /** The owner's batch jobs, newest first, from the owner index (never a scan). */
  listByOwner(
    owner: string,
    page: { status?: BatchJobStatus; limit: number; after?: BatchJobPosition },
  ): Promise<{ jobs: BatchJob[]; next?: BatchJobPosition }>;
  /** Flags an open job for cancel; the job as written, or undefined once it was resolved. */
  requestCancel(jobId: string, now: string): Promise<BatchJob | undefined>;
}

export const itemId = (index: number) => String(index + 1).padStart(4, '0');

/** A new batch job and its items, all `queued` until the provider accepts them. */
export function newBatchJob(
  body: CreateBatchJobBody,
  owner: string,
  jobId: string,
  now: string,
  maxTokens: number,
): { job: BatchJob; items: BatchItem[] } {
  const job: BatchJob = {
    job_id: jobId,
    owner,
    ...(body.name !== undefined && { name: body.name }),
    ...(body.system !== undefined && { system: body.system }),
    status: 'queued',
    total_items: body.items.length,
    submitted_items: 0,
    processed_items: 0,
    succeeded_items: 0,
    failed_items: 0,
    max_tokens: maxTokens,
    created_at: now,
    updated_at: now,
  };
  const items = body.items.map((item, index): BatchItem => ({
    job_id: jobId,
    item_id: itemId(index),
    input: item.input,
    status: 'queued',
    polls: 0,
    created_at: now,
    updated_at: now,
  }));
  return { job, items };
}

/**
 * The request for a claimed item. Jobs recorded before `max_tokens` existed use the service's
 * ceiling, so no request ever goes out without one.
 */
export const requestFor = (
  job: Pick<BatchJob, 'job_id' | 'system' | 'max_tokens'>,
  item: BatchItem & { submit_key: string },
  defaultMaxTokens: number,
): ItemRequest => ({
  jobId: job.job_id,
  itemId: item.item_id,
  input: item.input,
  ...(job.system !== undefined && { system: job.system }),
  maxTokens: job.max_tokens ?? defaultMaxTokens,
  submitKey: item.submit_key,
});

export const isFinalCheck = (check: ProviderCheck): check is FinalCheck => isTerminalItemStatus(check.status);

/** What is stored for a final check: provider text never reaches the record, only a public failure. */
export function outcomeOf(check: FinalCheck): ItemOutcome {
  if (check.status === 'succeeded') return check;
  return { status: check.status, error: publicFailureOf(check.failure), files: check.files };
}

/**
 * The max_tokens a job's items are sent with: the caller's value if within the service's ceiling,
 * else the ceiling itself when none was given. A larger value is refused, not clamped, so the
 * caller never gets shorter answers than they asked for without knowing.
 */
export function maxTokensFor(body: Pick<CreateBatchJobBody, 'max_tokens'>, ceiling: number): number {
  if (body.max_tokens === undefined) return ceiling;
  if (body.max_tokens > ceiling) {
    throw new ValidationError([{ field: 'max_tokens', message: `must be at most ${ceiling}` }]);
  }
  return body.max_tokens;
}

/** Aggregates recounted from the items themselves; the job is final once every item is. */
export function resolution(
  job: Pick<BatchJob, 'total_items' | 'cancel_requested'>,
  items: readonly Pick<BatchItem, 'status'>[],
): { status: BatchJobStatus; totals: Totals } | undefined {
  if (items.length < job.total_items || !items.every((item) => isTerminalItemStatus(item.status))) {
    return undefined;
  }
  const succeeded = items.filter((item) => item.status === 'succeeded').length;
  return {
    // A cancelled job keeps whatever results its items reached before the cancel.
    status: job.cancel_requested ? 'cancelled' : succeeded === 0 ? 'failed' : 'completed',
    totals: {
      processed_items: items.length,
      succeeded_items: succeeded,
      failed_items: items.length - succeeded,
    },
  };
}

export const CANCELLED_ITEM: ItemOutcome = {
  status: 'cancelled',
  error: { code: 'cancelled', message: 'The batch job was cancelled by its owner' },
  files: [],
};

/** The API view of a job: no owner, no system prompt. */
export function jobView(job: BatchJob) {
  const { owner: _owner, system: _system, ...view } = job;
  return view;
}

/** The API view of an item: its state and result, not the input the caller already has. */
export function itemView(item: BatchItem) {
  const {
    job_id: _job,
    input: _input,
    polls: _polls,
    claim_token: _token,
    claimed_at: _claimed,
    submit_key: _key,
    cleanup_files: _files,
    ...view
  } = item;
  return view;
}

/** A caller only ever sees their own jobs; someone else's is indistinguishable from none. */
export async function getJobFor(store: BatchStore, jobId: string, owner: string): Promise<BatchJob> {
  const job = await store.getJob(jobId);
  if (!job || job.owner !== owner) throw new NotFoundError(`Batch job ${jobId} not found`);
  return job;
}
