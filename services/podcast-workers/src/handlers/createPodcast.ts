import { randomUUID } from 'node:crypto';
import { systemClock } from '@offload/config';
import { createPodcastBodySchema, PODCAST_BODY_MAX_BYTES, podcastView } from '@offload/messages';
import { httpApi, json } from '@offload/middleware';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { tables } from '../config';
import { newPodcast } from '../domain/podcasts';

const store = dynamoPodcastStore(tables().PODCASTS_TABLE_NAME);

/** POST /podcasts: register a podcast owned by the caller; its next episode is due `frequency` days after the latest. */
export const handler = httpApi(
  async (event) => {
    const podcast = newPodcast(
      event.body,
      randomUUID(),
      systemClock.now().toISOString(),
      event.caller.userId,
    );
    await store.create(podcast);
    return json(201, podcastView(podcast), { location: `/podcasts/${podcast.podcastId}` });
  },
  { body: createPodcastBodySchema, maxBodyBytes: PODCAST_BODY_MAX_BYTES },
);
