import { env, readConfig } from '@offload/config';

/** Read once per cold start; each handler takes the part it needs. A missing variable fails by name. */
export const tables = () => readConfig({ JOBS_TABLE_NAME: env.name(), CONTROLS_TABLE_NAME: env.name() });

export const submitConfig = () =>
  readConfig({
    JOBS_TOPIC_ARN: env.name(),
    RATE_LIMIT_PER_MINUTE_FREE: env.int(60),
    RATE_LIMIT_PER_MINUTE_PAID: env.int(300),
    LLM_CALLS_PER_HOUR_FREE: env.int(500),
    LLM_CALLS_PER_HOUR_PAID: env.int(10_000),
  });

export const workerConfig = () =>
  readConfig({
    RESPONSE_QUEUE_NAME: env.name(),
    REQUEST_DLQ_NAME: env.name(),
    MAX_RECEIVE_COUNT: env.int(3),
    ...env.openai({ maxRetries: 2, timeoutMs: 60_000 }),
    OPENAI_MAX_TOKENS: env.int(1024),
  });

export const recorderConfig = () =>
  readConfig({ RESPONSE_DLQ_NAME: env.name(), MAX_RECEIVE_COUNT: env.int(3) });

export const sweeperConfig = () =>
  readConfig({
    JOBS_TOPIC_ARN: env.name(),
    STALE_AFTER_SECONDS: env.int(10_800),
    QUEUED_AFTER_SECONDS: env.int(3600),
    MAX_REPUBLISHES: env.int(2),
  });

/** The stage's live-update events topic (every producer of job.updated). */
export const eventsConfig = () => readConfig({ EVENTS_TOPIC_ARN: env.name() });
