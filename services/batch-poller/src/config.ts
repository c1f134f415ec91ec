import { env, readConfig } from '@offload/config';

/** Read once per cold start; each handler takes the part it needs. A missing variable fails by name. */
export const tables = () =>
  readConfig({ BATCH_JOBS_TABLE_NAME: env.name(), BATCH_ITEMS_TABLE_NAME: env.name() });

export const submitConfig = () =>
  readConfig({
    CONTROLS_TABLE_NAME: env.name(),
    RATE_LIMIT_PER_MINUTE: env.int(10),
    // Items (provider calls) per caller, by tier; the defaults match serverless.yml's params.
    BUDGET_FREE_ITEMS_PER_HOUR: env.int(500),
    BUDGET_FREE_ITEMS_PER_DAY: env.int(2000),
    BUDGET_PAID_ITEMS_PER_HOUR: env.int(5000),
    BUDGET_PAID_ITEMS_PER_DAY: env.int(50_000),
  });

/** What both submitters (the POST handler and the poller) must agree on. */
export const claimConfig = () =>
  readConfig({
    ITEM_OUTPUT_LIMIT: env.int(1024),
    // Longer than any function that can hold a claim runs, so its holder has ended for sure.
    SUBMIT_CLAIM_STALE_SECONDS: env.int(120),
  });

export const providerConfig = () =>
  readConfig({
    ...env.openai({ maxRetries: 4, timeoutMs: 10_000 }),
    SUBMIT_CONCURRENCY: env.int(10),
  });

export const pollerConfig = () =>
  readConfig({
    MAX_ITEMS_PER_JOB: env.int(50),
    CONCURRENT_BATCH_SIZE: env.int(20),
    POLL_PASSES: env.int(2),
    POLL_INTERVAL_MS: env.int(30_000),
    // No new provider call starts with less than this left: a call with its retries must finish.
    SAFETY_MARGIN_MS: env.int(15_000),
    CLEANUPS_PER_PASS: env.int(50),
  });

/** The stage's live-update events topic (batch_job.updated, batch_item.completed). */
export const eventsConfig = () => readConfig({ EVENTS_TOPIC_ARN: env.name() });
