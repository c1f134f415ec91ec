import { episodeSchema, podcastSchema, type Episode, type Podcast } from '@offload/messages';
import type * as z from 'zod/mini';
import {
  UnreadableRecordError,
  type EpisodeStore,
  type Listing,
  type PodcastStore,
  type Publisher,
  type SendSummary,
  type UnreadableRecord,
} from '../../src/domain/podcasts';
import { conditionFailed } from '@offload/testing/conditionFailed';

function unreadable(record: Record<string, unknown>, key: string, error: z.core.$ZodError): UnreadableRecord {
  return { key: String(record[key]), reason: error.issues.map((i) => i.path.join('.')).join('; ') };
}

function parseAll<T>(schema: z.ZodMiniType<T>, records: Record<string, unknown>[], key: string): Listing<T> {
  const listing: Listing<T> = { items: [], unreadable: [] };
  for (const record of records) {
    const parsed = schema.safeParse(structuredClone(record));
    if (parsed.success) listing.items.push(parsed.data);
    else listing.unreadable.push(unreadable(record, key, parsed.error));
  }
  return listing;
}

/**
 * In-memory stores with the DynamoDB adapters' conditions and parsing: records are kept as stored
 * (`putRaw` writes one the schema would refuse, as a hand edit of the table can), and reads parse
 * them, listing the ones that fail as unreadable. For unit tests only.
 */
export class MemoryPodcasts implements PodcastStore {
  readonly podcasts = new Map<string, Record<string, unknown>>();
  async create(podcast: Podcast) {
    if (this.podcasts.has(podcast.podcastId)) throw conditionFailed();
    this.podcasts.set(podcast.podcastId, structuredClone(podcast));
  }
  putRaw(record: Record<string, unknown>) {
    this.podcasts.set(String(record.podcastId), structuredClone(record));
  }
  async get(podcastId: string) {
    const record = this.podcasts.get(podcastId);
    if (!record) return undefined;
    const parsed = podcastSchema.safeParse(structuredClone(record));
    if (!parsed.success) throw new UnreadableRecordError(unreadable(record, 'podcastId', parsed.error));
    return parsed.data;
  }
  async listDue(today: string, max: number) {
    const due = [...this.podcasts.values()]
      .filter((p) => String(p.nextEpisodeDate) <= today)
      .sort((a, b) => String(a.nextEpisodeDate).localeCompare(String(b.nextEpisodeDate)))
      .slice(0, max);
    return parseAll(podcastSchema, due, 'podcastId');
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
  readonly raw = new Map<string, Record<string, unknown>>();
  async createIfAbsent(episode: Episode) {
    if (this.episodes.has(episode.episodeId)) return false;
    this.episodes.set(episode.episodeId, structuredClone(episode));
    return true;
  }
  /** A record the schema would refuse, listed as unreadable by status like the index would. */
  putRaw(record: Record<string, unknown>) {
    this.raw.set(String(record.episodeId), structuredClone(record));
  }
  async get(episodeId: string) {
    const episode = this.episodes.get(episodeId);
    return episode && structuredClone(episode);
  }
  /** Ordered by episode date, as the byPodcast index is. */
  async listByPodcast(podcastId: string) {
    return [...this.episodes.values()]
      .filter((e) => e.podcastId === podcastId)
      .sort((a, b) => a.episodeDate.localeCompare(b.episodeDate))
      .map((e) => structuredClone(e));
  }
  /** Oldest first, as the byStatus index (status + createdAt) is. */
  private byStatus(status: string, max: number, keep = (_: Record<string, unknown>) => true) {
    const records = [...this.episodes.values(), ...this.raw.values()] as Record<string, unknown>[];
    const matching = records
      .filter((e) => e.status === status && keep(e))
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)))
      .slice(0, max);
    return parseAll(episodeSchema, matching, 'episodeId');
  }
  async listPending(max: number) {
    return this.byStatus('pending', max);
  }
  async listStaleProcessing(updatedBefore: string, max: number) {
    return this.byStatus('processing', max, (e) => String(e.updatedAt) < updatedBefore);
  }
  async reclaim(episodeId: string, seenUpdatedAt: string, now: string) {
    const episode = this.episodes.get(episodeId);
    if (episode?.status !== 'processing' || episode.updatedAt !== seenUpdatedAt) return false;
    episode.updatedAt = now;
    return true;
  }
  async failStale(episodeId: string, seenUpdatedAt: string, error: Episode['error'], now: string) {
    const episode = this.episodes.get(episodeId);
    if (episode?.status !== 'processing' || episode.updatedAt !== seenUpdatedAt) return false;
    Object.assign(episode, { status: 'failed', error, updatedAt: now });
    return true;
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
