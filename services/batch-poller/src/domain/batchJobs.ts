import { NotFoundError } from '@offload/errors';
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
  | { status: 'succeeded'; result: string }
  | { status: 'failed' | 'expired' | 'cancelled'; error: string };

export type ItemOutcome = Extract<ProviderCheck, { result: string } | { error: string }>;

export interface ItemRequest {
  jobId: string;
  itemId: string;
  input: string;
  system?: string;
}

/** The provider's batch API, as the domain needs it. */
export interface BatchProvider {
  /** Hands one item to the provider; answers the provider's id for it. */
  submit(request: ItemRequest): Promise<string>;
  check(providerTaskId: string): Promise<ProviderCheck>;
  /** Asks the provider to cancel a submitted item; its checks then end `cancelled` (or done anyway). */
  cancel(providerTaskId: string): Promise<void>;
}

/** Where a page of the owner's batch jobs ends: the sort key of its last job. */
export interface BatchJobPosition {
  created_at: string;
  job_id: string;
}

export interface Totals {
  processed_items: number;
  succeeded_items: number;
  failed_items: number;
}

export interface ItemPage {
  items: BatchItem[];
  next?: string;
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
  /** `queued` -> `validating` with the provider's id; false if another run got there first. */
  markSubmitted(item: BatchItem, providerTaskId: string, now: string): Promise<boolean>;
  /** A non-terminal status change (and a poll count); a no-op once the item is terminal. */
  markProgress(item: BatchItem, status: BatchItemStatus, now: string): Promise<void>;
  /** Non-terminal -> terminal, once: true only for the write that made the transition. */
  finishItem(item: BatchItem, outcome: ItemOutcome, now: string): Promise<boolean>;
  /** Atomic counters on the job; only called by the run that won the item's transition. */
  countSubmitted(jobId: string, count: number, now: string): Promise<void>;
  countFinished(jobId: string, outcome: ItemOutcome['status'], now: string): Promise<void>;
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

export const requestFor = (job: Pick<BatchJob, 'job_id' | 'system'>, item: BatchItem): ItemRequest => ({
  jobId: job.job_id,
  itemId: item.item_id,
  input: item.input,
  ...(job.system !== undefined && { system: job.system }),
});

export const isFinalCheck = (check: ProviderCheck): check is ItemOutcome =>
  isTerminalItemStatus(check.status);

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
  error: 'The batch job was cancelled by its owner',
};

/** The API view of a job: no owner, no system prompt. */
export function jobView(job: BatchJob) {
  const { owner: _owner, system: _system, ...view } = job;
  return view;
}

/** The API view of an item: its state and result, not the input the caller already has. */
export function itemView(item: BatchItem) {
  const { job_id: _job, input: _input, polls: _polls, ...view } = item;
  return view;
}

/** A caller only ever sees their own jobs; someone else's is indistinguishable from none. */
export async function getJobFor(store: BatchStore, jobId: string, owner: string): Promise<BatchJob> {
  const job = await store.getJob(jobId);
  if (!job || job.owner !== owner) throw new NotFoundError(`Batch job ${jobId} not found`);
  return job;
}
