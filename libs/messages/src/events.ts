import * as z from 'zod/mini';
import { batchItemStatusSchema, batchJobStatusSchema } from './batch';
import { buildEnvelope, envelope } from './envelope';
import type { BatchItem, BatchJob } from './batch';
import { jobStatusSchema, type Job } from './job';

/**
 * Live-update events: one per change of a job's status or progress, of a batch job's aggregates,
 * and per batch item reaching a terminal state. Published to the stage's events topic (any
 * consumer may subscribe); the WebSocket notifier is one subscriber. `owner` lets a consumer check
 * who may see the event; it never reaches a client.
 */
const owner = z.string().check(z.minLength(1));
/** A version 1 batch event: the batch job and who may see it, then the event's own fields. */
const batchEventV1 = <Type extends string, Shape extends z.core.$ZodShape>(type: Type, fields: Shape) =>
  envelope(type, '1', z.object({ batch_job_id: z.uuid(), owner, ...fields }));

export const jobUpdatedV1 = envelope(
  'job.updated',
  '1',
  z.object({
    job_id: z.uuid(),
    owner,
    status: jobStatusSchema,
    progress: z.number().check(z.gte(0), z.lte(1)),
    updated_at: z.iso.datetime(),
    error: z.optional(z.unknown()),
    cancel_requested: z.optional(z.boolean()),
  }),
);
export type JobUpdated = z.infer<typeof jobUpdatedV1>;

export const batchCountsSchema = z.object({
  total: z.number().check(z.int(), z.nonnegative()),
  submitted: z.number().check(z.int(), z.nonnegative()),
  processed: z.number().check(z.int(), z.nonnegative()),
  succeeded: z.number().check(z.int(), z.nonnegative()),
  failed: z.number().check(z.int(), z.nonnegative()),
});
export type BatchCounts = z.infer<typeof batchCountsSchema>;

export const batchJobUpdatedV1 = batchEventV1('batch_job.updated', {
  status: batchJobStatusSchema,
  counts: batchCountsSchema,
  updated_at: z.iso.datetime(),
  cancel_requested: z.optional(z.boolean()),
});
export type BatchJobUpdated = z.infer<typeof batchJobUpdatedV1>;

export const batchItemCompletedV1 = batchEventV1('batch_item.completed', {
  item_id: z.string().check(z.minLength(1)),
  status: batchItemStatusSchema,
  result: z.optional(z.string()),
  error: z.optional(z.unknown()),
  completed_at: z.iso.datetime(),
});
export type BatchItemCompleted = z.infer<typeof batchItemCompletedV1>;

/** Every live-update event a consumer of the events topic may receive. */
export const liveEvent = z.discriminatedUnion('type', [
  jobUpdatedV1,
  batchJobUpdatedV1,
  batchItemCompletedV1,
]);
export type LiveEvent = z.infer<typeof liveEvent>;

/**
 * What a WebSocket client receives for an event: the event's data with its type, never the owner.
 * The same shape answers a subscribe with the current state.
 */
export function clientMessage(event: LiveEvent): Record<string, unknown> {
  const { owner: _owner, ...data } = event.data;
  return { type: event.type, ...data };
}

/** A job's state as a `job.updated` event, from the producer named by `source`. */
export function jobUpdated(
  job: Pick<Job, 'job_id' | 'owner' | 'status' | 'progress' | 'updated_at' | 'error' | 'cancel_requested'>,
  source: string,
): JobUpdated {
  return buildEnvelope(
    jobUpdatedV1,
    `${job.job_id}@${job.updated_at}`,
    {
      job_id: job.job_id,
      owner: job.owner,
      status: job.status,
      progress: job.progress,
      updated_at: job.updated_at,
      ...(job.error !== undefined && { error: job.error }),
      ...(job.cancel_requested && { cancel_requested: true }),
    },
    { source },
  );
}

/** A batch job's aggregates as a `batch_job.updated` event. */
export function batchJobUpdated(job: BatchJob, source: string): BatchJobUpdated {
  return buildEnvelope(
    batchJobUpdatedV1,
    `${job.job_id}@${job.updated_at}`,
    {
      batch_job_id: job.job_id,
      owner: job.owner,
      status: job.status,
      counts: {
        total: job.total_items,
        submitted: job.submitted_items,
        processed: job.processed_items,
        succeeded: job.succeeded_items,
        failed: job.failed_items,
      },
      updated_at: job.updated_at,
      ...(job.cancel_requested && { cancel_requested: true }),
    },
    { source },
  );
}

/** An item that reached a terminal state, with its result or error, as `batch_item.completed`. */
export function batchItemCompleted(
  owner: string,
  item: Pick<BatchItem, 'job_id' | 'item_id' | 'status'>,
  outcome: { result?: string; error?: unknown },
  completedAt: string,
  source: string,
): BatchItemCompleted {
  return buildEnvelope(
    batchItemCompletedV1,
    `${item.job_id}/${item.item_id}`,
    {
      batch_job_id: item.job_id,
      owner,
      item_id: item.item_id,
      status: item.status,
      ...(outcome.result !== undefined && { result: outcome.result }),
      ...(outcome.error !== undefined && { error: outcome.error }),
      completed_at: completedAt,
    },
    { source },
  );
}

/** What a WebSocket client sends: subscribe to or unsubscribe from one job or one batch job. */
export const clientRequestSchema = z.union([
  z.strictObject({ action: z.enum(['subscribe', 'unsubscribe']), job_id: z.uuid('must be a UUID') }),
  z.strictObject({ action: z.enum(['subscribe', 'unsubscribe']), batch_job_id: z.uuid('must be a UUID') }),
]);
export type ClientRequest = z.infer<typeof clientRequestSchema>;

/** An error message to a WebSocket client (another caller's id is `not_found`, as over HTTP). */
export interface ClientError {
  type: 'error';
  code: 'not_found' | 'bad_request';
  message: string;
  job_id?: string;
  batch_job_id?: string;
}
