import type { EpisodeProcessingV1 } from '@offload/messages';
import { correlationIdOf, httpApi, json, logger, recordCounts, scheduled } from '@offload/middleware';
import { dynamoEpisodeStore } from '../adapters/dynamoPodcastStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { queues, tables } from '../config';
import { checkEpisodes } from '../domain/podcasts';

const deps = {
  episodes: dynamoEpisodeStore(tables().EPISODES_TABLE_NAME),
  publisher: sqsPublisher<EpisodeProcessingV1>(queues().EPISODE_QUEUE_NAME),
  clock: { now: () => new Date() },
};

/** One run; every message it sends carries `traceId` (the run's correlation id). */
async function run(traceId: string) {
  const report = await checkEpisodes(deps, traceId);
  logger.info('Episode checker run', { ...report });
  return report;
}

/** On its EventBridge schedule: publish one processing message per pending episode. */
export const scheduledHandler = scheduled(async (_event, context) => {
  const report = await run(correlationIdOf(context));
  recordCounts({ WorkFound: report.found, MessagesSent: report.sent, MessagesNotSent: report.failed });
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
