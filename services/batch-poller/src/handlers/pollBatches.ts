import { randomUUID } from 'node:crypto';
import { logger, recordCounts, scheduled } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { systemClock } from '@offload/config';
import { batchStore, warn } from '../adapters/batchStore';
import { batchProvider } from '../adapters/provider';
import { unreadableReporter } from '../adapters/unreadable';
import { claimConfig, eventsConfig, pollerConfig, tables } from '../config';
import { pollRun } from '../domain/poller';

const config = { ...tables(), ...pollerConfig(), ...claimConfig(), ...eventsConfig() };
const events = eventPublisher(config.EVENTS_TOPIC_ARN);
const unreadable = unreadableReporter();
const batches = batchProvider();
const store = batchStore(unreadable);
const options = {
  maxItemsPerJob: config.MAX_ITEMS_PER_JOB,
  concurrency: config.CONCURRENT_BATCH_SIZE,
  passes: config.POLL_PASSES,
  passIntervalMs: config.POLL_INTERVAL_MS,
  cleanupsPerPass: config.CLEANUPS_PER_PASS,
  claimStaleMs: config.SUBMIT_CLAIM_STALE_SECONDS * 1000,
  defaultMaxTokens: config.ITEM_OUTPUT_LIMIT,
};

/**
 * Every minute (EventBridge's smallest rate), two passes 30 s apart; reserved concurrency 1 keeps
 * runs from overlapping on AWS, and conditional writes (submit claims included) keep them correct
 * if they ever do.
 */
export const handler = scheduled(async (_event, context) => {
  const started = Date.now();
  batches.takeBackoffs();
  unreadable.take();
  const stats = await pollRun(
    {
      store,
      provider: batches.provider,
      clock: systemClock,
      hasTime: () => context.getRemainingTimeInMillis() > config.SAFETY_MARGIN_MS,
      newToken: randomUUID,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      warn,
      events,
    },
    options,
  );
  const line = {
    ...stats,
    backoffs: batches.takeBackoffs(),
    unreadable: unreadable.take(),
    durationMs: Date.now() - started,
  };
  logger.info('Batch poll run', line);
  recordCounts({
    JobsPolled: line.jobsPolled,
    ItemsPolled: line.itemsPolled,
    ItemsUpdated: line.itemsUpdated,
    JobsResolved: line.jobsResolved,
    PollErrors: line.errors,
    ItemsDeferred: line.deferred,
    ProviderBackoffs: line.backoffs,
    FilesDeleted: line.filesDeleted,
    CleanupErrors: line.cleanupErrors,
    UnreadableRecords: line.unreadable,
  });
  return line;
});
