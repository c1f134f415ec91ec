import { randomUUID } from 'node:crypto';
import { ValidationError } from '@offload/errors';
import { createJobBodySchema, JOB_BODY_MAX_BYTES } from '@offload/messages';
import { correlationIdOf, httpApi, json, logger } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoControls } from '../adapters/dynamoControls';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { snsJobPublisher } from '../adapters/snsJobPublisher';
import { submitConfig, tables } from '../config';
import { submitJob } from '../domain/jobs';

const config = { ...tables(), ...submitConfig() };
const deps = {
  store: dynamoJobStore(config.JOBS_TABLE_NAME),
  controls: dynamoControls(config.CONTROLS_TABLE_NAME, systemClock),
  publisher: snsJobPublisher(config.JOBS_TOPIC_ARN),
  clock: systemClock,
  newId: randomUUID,
  limits: {
    free: {
      requestsPerMinute: config.RATE_LIMIT_PER_MINUTE_FREE,
      llmCallsPerHour: config.LLM_CALLS_PER_HOUR_FREE,
    },
    paid: {
      requestsPerMinute: config.RATE_LIMIT_PER_MINUTE_PAID,
      llmCallsPerHour: config.LLM_CALLS_PER_HOUR_PAID,
    },
  },
};
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/**
 * POST /jobs (the stack has identified the caller and validated the body): record `queued`, publish, answer 202 with where to poll. The
 * request's traceId is this request's correlation id; the processor passes it on to the result.
 */
export const handler = httpApi(
  async (event, context) => {
    const { caller } = event;
    const key = event.headers['idempotency-key'];
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError([
        { field: 'Idempotency-Key', message: 'must be 1-128 visible ASCII characters' },
      ]);
    }
    // Over the rate limit or the LLM budget, submitJob throws a TooManyRequestsError (code
    // rate_limited or budget_exceeded): the error stack answers 429 with Retry-After.
    const { job, replayed } = await submitJob(deps, caller, event.body, key, correlationIdOf(context));
    logger.info('Job accepted', { job_id: job.job_id, priority: job.priority, replayed });
    return json(
      202,
      { job_id: job.job_id, status: job.status },
      { location: `/jobs/${job.job_id}`, ...(replayed && { 'idempotent-replayed': 'true' }) },
    );
  },
  { body: createJobBodySchema, maxBodyBytes: JOB_BODY_MAX_BYTES },
);
