import type { PodcastGenerationV1 } from '@offload/messages';
import { httpApi, json, logger, scheduled } from '@offload/middleware';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { queues, tables } from '../config';
import { schedulePodcasts } from '../domain/podcasts';

const deps = {
  podcasts: dynamoPodcastStore(tables().PODCASTS_TABLE_NAME),
  publisher: sqsPublisher<PodcastGenerationV1>(queues().GENERATION_QUEUE_NAME),
  clock: { now: () => new Date() },
};

async function run() {
  const report = await schedulePodcasts(deps);
  logger.info('Podcast scheduler run', { ...report });
  return report;
}

/** On its EventBridge schedule: publish one generation message per due podcast. */
export const scheduledHandler = scheduled(run);

/** POST /podcasts/schedule: the same run on demand; answers at once with the counts. */
export const httpHandler = httpApi(async () => json(202, await run()));
