import { randomUUID } from 'node:crypto';
import { takeRateToken } from '@offload/aws/dynamodb';
import { BATCH_BODY_MAX_BYTES, createBatchJobBodySchema } from '@offload/messages';
import { httpApi, json, logger } from '@offload/middleware';
import { dynamoBatchStore } from '../adapters/dynamoBatchStore';
import { provider, submitConcurrency } from '../adapters/provider';
import { submitConfig, tables } from '../config';
import { jobView } from '../domain/batchJobs';
import { submitBatchJob } from '../domain/poller';

const config = { ...tables(), ...submitConfig() };
const deps = {
  store: dynamoBatchStore(config.BATCH_JOBS_TABLE_NAME, config.BATCH_ITEMS_TABLE_NAME),
  provider,
  clock: { now: () => new Date() },
  rateLimit: (owner: string, limit: number, now: Date) =>
    takeRateToken(config.CONTROLS_TABLE_NAME, owner, limit, now),
  rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
  submitConcurrency,
  warn: (message: string, fields: Record<string, unknown>) => logger.warn(message, fields),
};
// Stop submitting with this much left, so the answer goes out before the request times out.
const ANSWER_MARGIN_MS = 3000;

/** POST /batch-jobs: record the job and its items, hand them to the provider, answer 202. */
export const handler = httpApi(
  async (event, context) => {
    const hasTime = () => context.getRemainingTimeInMillis() > ANSWER_MARGIN_MS;
    const job = await submitBatchJob({ ...deps, hasTime }, event.caller.userId, event.body, randomUUID());
    logger.info('Batch job accepted', { job_id: job.job_id, items: job.total_items });
    return json(202, jobView(job), { location: `/batch-jobs/${job.job_id}` });
  },
  { body: createBatchJobBodySchema, maxBodyBytes: BATCH_BODY_MAX_BYTES },
);
