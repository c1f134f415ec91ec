import * as z from 'zod';
import { ValidationError } from '@offload/errors';
import { httpApi, json } from '@offload/middleware';
import { dynamoEpisodeStore, dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { tables } from '../config';
import { getPodcastWithEpisodes } from '../domain/podcasts';

const config = tables();
const podcasts = dynamoPodcastStore(config.PODCASTS_TABLE_NAME);
const episodes = dynamoEpisodeStore(config.EPISODES_TABLE_NAME);
const podcastId = z.uuid();

/** GET /podcasts/{id}: the podcast and its episodes, oldest first. */
export const handler = httpApi(async (event) => {
  const id = podcastId.safeParse(event.pathParameters?.id);
  if (!id.success) throw new ValidationError([{ field: 'id', message: 'must be a UUID' }]);
  return json(200, await getPodcastWithEpisodes(podcasts, episodes, id.data), {
    'cache-control': 'no-store',
  });
});
