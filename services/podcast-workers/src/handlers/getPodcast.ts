import { httpApi, json, uuidPathParameter } from '@offload/middleware';
import { dynamoEpisodeStore, dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { tables } from '../config';
import { getPodcastWithEpisodes } from '../domain/podcasts';

const config = tables();
const podcasts = dynamoPodcastStore(config.PODCASTS_TABLE_NAME);
const episodes = dynamoEpisodeStore(config.EPISODES_TABLE_NAME);

/** GET /podcasts/{id}: the podcast and its episodes, oldest first. */
export const handler = httpApi(async (event) => {
  return json(200, await getPodcastWithEpisodes(podcasts, episodes, uuidPathParameter(event)), {
    'cache-control': 'no-store',
  });
});
