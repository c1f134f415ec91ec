import type { EpisodeProcessingV1 } from '@offload/messages';
import { correlationIdOf, httpApi, json, logger, recordCounts, scheduled } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoEpisodeStore } from '../adapters/dynamoEpisodeStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { checkerConfig, queues, tables } from '../config';
import { checkEpisodes } from '../domain/podcasts';

const config = checkerConfig();
const options = {
  staleAfterMs: config.STALE_PROCESSING_SECONDS * 1000,
  maxAttempts: config.MAX_RECEIVE_COUNT,
};
const deps = {
  episodes: dynamoEpisodeStore(tables().EPISODES_TABLE_NAME),
  publisher: sqsPublisher<EpisodeProcessingV1>(queues().EPISODE_QUEUE_NAME),
  clock: systemClock,
};

/**
 * One run; every message it sends carries `traceId` (the run's correlation id). An unreadable
 * episode is logged with its key and skipped; the others are sent all the same.
 */
async function run(traceId: string) {
  const { report, unreadable } = await checkEpisodes(deps, options, traceId);
  for (const record of unreadable)
    logger.error('Unreadable episode skipped', { episode_id: record.key, reason: record.reason });
  logger.info('Episode checker run', { ...report });
  return report;
}

/** On its EventBridge schedule: publish one processing message per pending (or stale) episode. */
export const scheduledHandler = scheduled(async (_event, context) => {
  const report = await run(correlationIdOf(context));
  recordCounts({
    WorkFound: report.found,
    MessagesSent: report.sent,
    MessagesNotSent: report.failed,
    UnreadableRecords: report.skipped,
    StaleEpisodesReclaimed: report.reclaimed,
    StaleEpisodesFailed: report.expired,
  });
  return report;
});

/**
 * POST /episodes/check: the same run on demand; answers at once with the counts. It acts on every
 * caller's episodes, so it takes an operator key (403 for others).
 */
export const httpHandler = httpApi(
  async (_event, context) => json(202, await run(correlationIdOf(context))),
  {
    role: 'operator',
  },
);
