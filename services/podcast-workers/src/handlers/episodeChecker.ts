import type { EpisodeProcessingV1 } from '@offload/messages';
import { systemClock } from '@offload/config';
import { dynamoEpisodeStore } from '../adapters/dynamoEpisodeStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { checkerConfig, queues, tables } from '../config';
import { checkEpisodes } from '../domain/podcasts';
import { publisherHandlers } from '../publisher';

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
 * On its EventBridge schedule (`scheduledHandler`) and on demand as POST /episodes/check
 * (`httpHandler`, operator key): publish one processing message per pending (or stale) episode.
 */
export const { scheduledHandler, httpHandler } = publisherHandlers(
  (traceId) => checkEpisodes(deps, options, traceId),
  { run: 'Episode checker run', unreadable: 'Unreadable episode skipped', keyField: 'episode_id' },
  (report) => ({ StaleEpisodesReclaimed: report.reclaimed, StaleEpisodesFailed: report.expired }),
);
