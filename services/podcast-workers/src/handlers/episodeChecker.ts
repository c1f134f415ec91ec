import type { EpisodeProcessingV1 } from '@offload/messages';
import { httpApi, json, logger, scheduled } from '@offload/middleware';
import { dynamoEpisodeStore } from '../adapters/dynamoPodcastStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { queues, tables } from '../config';
import { checkEpisodes } from '../domain/podcasts';

const deps = {
  episodes: dynamoEpisodeStore(tables().EPISODES_TABLE_NAME),
  publisher: sqsPublisher<EpisodeProcessingV1>(queues().EPISODE_QUEUE_NAME),
  clock: { now: () => new Date() },
};

async function run() {
  const report = await checkEpisodes(deps);
  logger.info('Episode checker run', { ...report });
  return report;
}

/** On its EventBridge schedule: publish one processing message per pending episode. */
export const scheduledHandler = scheduled(run);

/** POST /episodes/check: the same run on demand; answers at once with the counts. */
export const httpHandler = httpApi(async () => json(202, await run()));
