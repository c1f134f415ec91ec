import { randomUUID } from 'node:crypto';
import { ValidationError } from '@offload/errors';
import { BATCH_BODY_MAX_BYTES, canonicalBodyHash, createBatchJobBodySchema } from '@offload/messages';
import { httpApi, json, logger } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { batchStore, warn } from '../adapters/batchStore';
import { dynamoBudgetLedger, dynamoControls } from '../adapters/dynamoControls';
import { batchProvider } from '../adapters/provider';
import { claimConfig, submitConfig, tables } from '../config';
import { jobView } from '../domain/batchJobs';
import { submitBatchJob } from '../domain/submit';

const config = { ...tables(), ...submitConfig(), ...claimConfig() };
const { provider, submitConcurrency } = batchProvider();
const deps = {
  store: batchStore(),
  provider,
  clock: systemClock,
  controls: dynamoControls(config.CONTROLS_TABLE_NAME, systemClock),
  budget: dynamoBudgetLedger(config.CONTROLS_TABLE_NAME),
  budgets: {
    free: {
      itemsPerHour: config.BUDGET_FREE_ITEMS_PER_HOUR,
      itemsPerDay: config.BUDGET_FREE_ITEMS_PER_DAY,
    },
    paid: {
      itemsPerHour: config.BUDGET_PAID_ITEMS_PER_HOUR,
      itemsPerDay: config.BUDGET_PAID_ITEMS_PER_DAY,
    },
  },
  rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
  submitConcurrency,
  maxTokens: config.ITEM_OUTPUT_LIMIT,
  claimStaleMs: config.SUBMIT_CLAIM_STALE_SECONDS * 1000,
  newId: randomUUID,
  newToken: randomUUID,
  warn,
};
// Stop submitting with this much left, so the answer goes out before the request times out.
const ANSWER_MARGIN_MS = 3000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/**
 * POST /batch-jobs: record the job and its items, hand them to the provider, answer 202. Over the
 * rate limit or the item budget, submitBatchJob throws a 429 error that the stack answers with
 * Retry-After; an Idempotency-Key replay answers the first job with `idempotent-replayed: true`.
 */
export const handler = httpApi(
  async (event, context) => {
    const key = event.headers['idempotency-key'];
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError([
        { field: 'Idempotency-Key', message: 'must be 1-128 visible ASCII characters' },
      ]);
    }
    const hasTime = () => context.getRemainingTimeInMillis() > ANSWER_MARGIN_MS;
    const { job, replayed } = await submitBatchJob(
      { ...deps, hasTime },
      {
        caller: event.caller,
        body: event.body,
        ...(key !== undefined && { idempotency: { key, bodyHash: canonicalBodyHash(event.body) } }),
      },
    );
    logger.info('Batch job accepted', { job_id: job.job_id, items: job.total_items, replayed });
    return json(202, jobView(job), {
      location: `/batch-jobs/${job.job_id}`,
      ...(replayed && { 'idempotent-replayed': 'true' }),
    });
  },
  { body: createBatchJobBodySchema, maxBodyBytes: BATCH_BODY_MAX_BYTES },
);
