import * as z from 'zod/mini';
import { listQuerySchema } from './job';
import { line, text } from './text';

/** A failure as clients see it: a stable code and a message written for them. */
export const batchFailureSchema = z.object({ code: z.string(), message: z.string() });

export const BATCH_BODY_MAX_BYTES = 512 * 1024;
export const BATCH_MAX_ITEMS = 500;
export const BATCH_INPUT_MAX = 4000;
/** The largest `max_tokens` any deployment accepts; each stage sets its own lower ceiling. */
export const BATCH_MAX_TOKENS_LIMIT = 16_384;

/** POST /batch-jobs body: each item becomes one request to the provider's Batch API. */
export const createBatchJobBodySchema = z.strictObject({
  name: z.optional(line(200)),
  system: z.optional(line(2000)),
  /** Output tokens per item; the service's ceiling (and default) applies, a larger value is refused. */
  max_tokens: z.optional(
    z
      .number()
      .check(
        z.int('must be an integer'),
        z.gte(1, 'must be at least 1'),
        z.lte(BATCH_MAX_TOKENS_LIMIT, `must be at most ${BATCH_MAX_TOKENS_LIMIT}`),
      ),
  ),
  items: z
    .array(z.strictObject({ input: text(BATCH_INPUT_MAX) }))
    .check(
      z.minLength(1, 'must hold at least 1 item'),
      z.maxLength(BATCH_MAX_ITEMS, `must hold at most ${BATCH_MAX_ITEMS} items`),
    ),
});
export type CreateBatchJobBody = z.infer<typeof createBatchJobBodySchema>;

export const batchJobStatusSchema = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type BatchJobStatus = z.infer<typeof batchJobStatusSchema>;
export const isOpenBatchJobStatus = (status: BatchJobStatus) => status === 'queued' || status === 'running';

/**
 * An item's state. `queued` means not yet accepted by the provider; `submitting` means one submitter
 * holds the claim to hand it over; the rest mirror the provider's batch states, with `completed`
 * split into `succeeded` (a result) and `failed` (an item error).
 */
export const batchItemStatusSchema = z.enum([
  'queued',
  'submitting',
  'validating',
  'in_progress',
  'finalizing',
  'cancelling',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
]);
export type BatchItemStatus = z.infer<typeof batchItemStatusSchema>;
export const TERMINAL_ITEM_STATUSES: readonly BatchItemStatus[] = [
  'succeeded',
  'failed',
  'expired',
  'cancelled',
];
export const isTerminalItemStatus = (status: BatchItemStatus) => TERMINAL_ITEM_STATUSES.includes(status);

/** A batch job as stored. `owner` never leaves the service; the API view drops it. */
export const batchJobSchema = z.object({
  job_id: z.uuid(),
  owner: z.string(),
  name: z.optional(z.string()),
  system: z.optional(z.string()),
  status: batchJobStatusSchema,
  total_items: z.number().check(z.int(), z.nonnegative()),
  submitted_items: z.number().check(z.int(), z.nonnegative()),
  processed_items: z.number().check(z.int(), z.nonnegative()),
  succeeded_items: z.number().check(z.int(), z.nonnegative()),
  failed_items: z.number().check(z.int(), z.nonnegative()),
  /** Output-token ceiling sent with every item of the job (absent on jobs recorded before it existed). */
  max_tokens: z.optional(z.number().check(z.int(), z.positive())),
  /** Set by DELETE /batch-jobs/{id}: open items are cancelled at the provider, the job ends `cancelled`. */
  cancel_requested: z.optional(z.boolean()),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  completed_at: z.optional(z.iso.datetime()),
});
export type BatchJob = z.infer<typeof batchJobSchema>;

export const listBatchJobsQuerySchema = listQuerySchema(batchJobStatusSchema);
export type ListBatchJobsQuery = z.infer<typeof listBatchJobsQuerySchema>;

export const batchItemSchema = z.object({
  job_id: z.uuid(),
  /** Zero-padded position in the request ("0007"), so items sort in submission order. */
  item_id: z.string(),
  input: z.string(),
  status: batchItemStatusSchema,
  provider_task_id: z.optional(z.string()),
  /** Who holds the submit claim and since when; a claim older than the stale age can be taken over. */
  claim_token: z.optional(z.string()),
  claimed_at: z.optional(z.iso.datetime()),
  /** Idempotency key of the provider POSTs for this item: kept across takeovers so a resubmission finds the same batch. */
  submit_key: z.optional(z.string()),
  result: z.optional(z.string()),
  /** The public failure (code and message); the provider's own text stays in the logs. */
  error: z.optional(batchFailureSchema),
  /** Provider files (input, output, error) still to delete; cleared once they are gone. */
  cleanup_files: z.optional(z.array(z.string())),
  polls: z.number().check(z.int(), z.nonnegative()),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  completed_at: z.optional(z.iso.datetime()),
});
export type BatchItem = z.infer<typeof batchItemSchema>;
