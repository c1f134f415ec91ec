import type { Episode, Podcast } from '@offload/messages';
import type { EpisodeStore, PodcastStore, Publisher, SendSummary } from '../../src/domain/podcasts';

/** In-memory stores with the DynamoDB adapters' conditions. For unit tests only. */
export class MemoryPodcasts implements PodcastStore {
  readonly podcasts = new Map<string, Podcast>();
  async create(podcast: Podcast) {
    this.podcasts.set(podcast.podcastId, structuredClone(podcast));
  }
  async get(podcastId: string) {
    const podcast = this.podcasts.get(podcastId);
    return podcast && structuredClone(podcast);
  }
  async listDue(today: string) {
    return [...this.podcasts.values()]
      .filter((p) => p.nextEpisodeDate <= today)
      .map((p) => structuredClone(p));
  }
  async advance(podcastId: string, from: string, to: string, nextEpisodeDate: string, now: string) {
    const podcast = this.podcasts.get(podcastId);
    if (podcast?.latestEpisodeDate !== from) return false;
    Object.assign(podcast, { latestEpisodeDate: to, nextEpisodeDate, updatedAt: now });
    return true;
  }
}

export class MemoryEpisodes implements EpisodeStore {
  readonly episodes = new Map<string, Episode>();
  async createIfAbsent(episode: Episode) {
    if (this.episodes.has(episode.episodeId)) return false;
    this.episodes.set(episode.episodeId, structuredClone(episode));
    return true;
  }
  async get(episodeId: string) {
    const episode = this.episodes.get(episodeId);
    return episode && structuredClone(episode);
  }
  async listByPodcast(podcastId: string) {
    return [...this.episodes.values()].filter((e) => e.podcastId === podcastId);
  }
  async listPending() {
    return [...this.episodes.values()].filter((e) => e.status === 'pending');
  }
  async start(episodeId: string, now: string) {
    const episode = this.episodes.get(episodeId);
    if (!episode || (episode.status !== 'pending' && episode.status !== 'processing')) return undefined;
    Object.assign(episode, { status: 'processing', attempts: episode.attempts + 1, updatedAt: now });
    return structuredClone(episode);
  }
  async finish(episodeId: string, changes: Partial<Episode>, now: string) {
    const episode = this.episodes.get(episodeId);
    if (episode?.status !== 'processing') return false;
    Object.assign(episode, changes, { updatedAt: now });
    return true;
  }
}

export class MemoryPublisher<Message> implements Publisher<Message> {
  readonly sent: Message[] = [];
  async send(messages: Message[]): Promise<SendSummary> {
    this.sent.push(...messages);
    return { sent: messages.length, failed: 0, batches: Math.ceil(messages.length / 10) };
  }
}
