import { episodeView, podcastView } from '@offload/messages';
import { httpApi, json, uuidPathParameter } from '@offload/middleware';
import { dynamoEpisodeStore } from '../adapters/dynamoEpisodeStore';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { tables } from '../config';
import { getPodcastWithEpisodes } from '../domain/podcasts';

const config = tables();
const podcasts = dynamoPodcastStore(config.PODCASTS_TABLE_NAME);
const episodes = dynamoEpisodeStore(config.EPISODES_TABLE_NAME);

/** GET /podcasts/{id}: the caller's own podcast and its episodes, oldest first; 404 for any other. */
export const handler = httpApi(async (event) => {
  const found = await getPodcastWithEpisodes(
    podcasts,
    episodes,
    uuidPathParameter(event),
    event.caller.userId,
  );
  const view = { ...podcastView(found), episodes: found.episodes.map(episodeView) };
  return json(200, view, { 'cache-control': 'no-store' });
});
