import type { PodcastGenerationV1 } from '@offload/messages';
import { correlationIdOf, httpApi, json, logger, recordCounts, scheduled } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { queues, tables } from '../config';
import { schedulePodcasts } from '../domain/podcasts';

const deps = {
  podcasts: dynamoPodcastStore(tables().PODCASTS_TABLE_NAME),
  publisher: sqsPublisher<PodcastGenerationV1>(queues().GENERATION_QUEUE_NAME),
  clock: systemClock,
};

/**
 * One run; every message it sends carries `traceId` (the run's correlation id). An unreadable
 * podcast is logged with its key and skipped; the others are scheduled all the same.
 */
async function run(traceId: string) {
  const { report, unreadable } = await schedulePodcasts(deps, traceId);
  for (const record of unreadable)
    logger.error('Unreadable podcast skipped', { podcast_id: record.key, reason: record.reason });
  logger.info('Podcast scheduler run', { ...report });
  return report;
}

/** On its EventBridge schedule: publish one generation message per due podcast. */
export const scheduledHandler = scheduled(async (_event, context) => {
  const report = await run(correlationIdOf(context));
  recordCounts({
    WorkFound: report.found,
    MessagesSent: report.sent,
    MessagesNotSent: report.failed,
    UnreadableRecords: report.skipped,
  });
  return report;
});

/**
 * POST /podcasts/schedule: the same run on demand; answers at once with the counts. It acts on every
 * caller's podcasts, so it takes an operator key (403 for others).
 */
export const httpHandler = httpApi(
  async (_event, context) => json(202, await run(correlationIdOf(context))),
  {
    role: 'operator',
  },
);
