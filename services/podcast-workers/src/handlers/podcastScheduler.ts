import type { PodcastGenerationV1 } from '@offload/messages';
import { systemClock } from '@offload/config';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { sqsPublisher } from '../adapters/sqsPublisher';
import { queues, tables } from '../config';
import { schedulePodcasts } from '../domain/podcasts';
import { publisherHandlers } from '../publisher';

const deps = {
  podcasts: dynamoPodcastStore(tables().PODCASTS_TABLE_NAME),
  publisher: sqsPublisher<PodcastGenerationV1>(queues().GENERATION_QUEUE_NAME),
  clock: systemClock,
};

/**
 * On its EventBridge schedule (`scheduledHandler`) and on demand as POST /podcasts/schedule
 * (`httpHandler`, operator key): publish one generation message per due podcast.
 */
export const { scheduledHandler, httpHandler } = publisherHandlers(
  (traceId) => schedulePodcasts(deps, traceId),
  {
    run: 'Podcast scheduler run',
    unreadable: 'Unreadable podcast skipped',
    keyField: 'podcast_id',
  },
);
