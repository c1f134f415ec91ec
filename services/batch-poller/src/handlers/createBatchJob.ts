import { randomUUID } from 'node:crypto';
import { BATCH_BODY_MAX_BYTES, createBatchJobBodySchema } from '@offload/messages';
import { httpApi, identify, json, logger, parseCallers } from '@offload/middleware';
import { dynamoBatchStore } from '../adapters/dynamoBatchStore';
import { provider, submitConcurrency } from '../adapters/provider';
import { callerConfig, tables } from '../config';
import { jobView, newBatchJob } from '../domain/batchJobs';
import { submitItems } from '../domain/poller';

const config = { ...tables(), ...callerConfig() };
const callers = parseCallers(config.API_KEYS);
const store = dynamoBatchStore(config.BATCH_JOBS_TABLE_NAME, config.BATCH_ITEMS_TABLE_NAME);
const clock = { now: () => new Date() };
// Stop submitting with this much left, so the answer goes out before the request times out.
const ANSWER_MARGIN_MS = 3000;

/** POST /batch-jobs: record the job and its items, hand them to the provider, answer 202. */
export const handler = httpApi(
  async (event, context) => {
    const caller = identify(callers, event.headers);
    const { job, items } = newBatchJob(event.body, caller.userId, randomUUID(), clock.now().toISOString());
    await store.createJob(job, items);
    const hasTime = () => context.getRemainingTimeInMillis() > ANSWER_MARGIN_MS;
    const warn = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
    await submitItems({ store, provider, clock, hasTime, warn }, job, items, submitConcurrency);
    const saved = (await store.getJob(job.job_id)) ?? job;
    return json(202, jobView(saved), { location: `/batch-jobs/${job.job_id}` });
  },
  { body: createBatchJobBodySchema, maxBodyBytes: BATCH_BODY_MAX_BYTES },
);
