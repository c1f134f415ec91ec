import { randomUUID } from 'node:crypto';
import type { Episode, Podcast } from '@offload/messages';
import { CONDITION_FAILED } from '@offload/testing/conditionFailed';
import type { EpisodeStore, PodcastStore } from '../../src/domain/podcasts';

const at = (second: number) => new Date(Date.UTC(2026, 10, 24, 12, 0, second)).toISOString();
const FAILURE = { code: 'internal_error', message: 'Something went wrong' };

const newPodcast = (changes: Partial<Podcast> = {}): Podcast => ({
  podcastId: randomUUID(),
  owner: 'alice',
  title: 'Morning brief',
  frequency: 7,
  latestEpisodeDate: '2026-11-17',
  nextEpisodeDate: '2026-11-24',
  createdAt: at(0),
  updatedAt: at(0),
  ...changes,
});

const newEpisode = (changes: Partial<Episode> = {}): Episode => {
  const podcastId = changes.podcastId ?? randomUUID();
  const episodeDate = changes.episodeDate ?? '2026-11-24';
  return {
    episodeId: `${podcastId}#${episodeDate}`,
    podcastId,
    episodeDate,
    title: 'Morning brief, 24 November',
    status: 'pending',
    attempts: 0,
    createdAt: at(0),
    updatedAt: at(0),
    ...changes,
  };
};

const ids = (listed: { items: { podcastId?: string; episodeId?: string }[] }) =>
  listed.items.map((item) => item.episodeId ?? item.podcastId);

/** What every PodcastStore does; `makeStore` answers a store holding no podcasts. */
export function describePodcastStoreContract(name: string, makeStore: () => Promise<PodcastStore>) {
  describe(`PodcastStore contract: ${name}`, () => {
    let store: PodcastStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('creates a podcast once: a second create of the id is refused as a lost condition', async () => {
      const podcast = newPodcast();
      await store.create(podcast);
      await expect(store.create({ ...podcast, title: 'Other' })).rejects.toMatchObject(CONDITION_FAILED);
      expect(await store.get(podcast.podcastId)).toEqual(podcast);
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('hands out copies, never the records it keeps', async () => {
      const podcast = newPodcast();
      await store.create(podcast);
      podcast.title = 'Changed after create';
      (await store.get(podcast.podcastId))!.title = 'Changed after get';
      (await store.listDue('2026-11-24', 10)).items[0]!.title = 'Changed after listing';
      expect(await store.get(podcast.podcastId)).toMatchObject({ title: 'Morning brief' });
    });

    it('lists the podcasts due on or before a day, soonest first, up to `max`', async () => {
      const later = newPodcast({ nextEpisodeDate: '2026-11-24' });
      const sooner = newPodcast({ nextEpisodeDate: '2026-11-20' });
      const notYet = newPodcast({ nextEpisodeDate: '2026-11-25' });
      for (const podcast of [later, notYet, sooner]) await store.create(podcast);
      const due = await store.listDue('2026-11-24', 10);
      expect(due).toEqual({ items: [sooner, later], unreadable: [] });
      expect(ids(await store.listDue('2026-11-24', 1))).toEqual([sooner.podcastId]);
      expect(ids(await store.listDue('2026-11-19', 10))).toEqual([]);
    });

    it('advances a podcast only from the latest date the caller saw', async () => {
      const podcast = newPodcast();
      await store.create(podcast);
      expect(await store.advance(podcast.podcastId, '2026-11-10', '2026-11-24', '2026-12-01', at(1))).toBe(
        false,
      );
      expect(await store.advance(podcast.podcastId, '2026-11-17', '2026-11-24', '2026-12-01', at(1))).toBe(
        true,
      );
      expect(await store.advance(podcast.podcastId, '2026-11-17', '2026-11-24', '2026-12-01', at(2))).toBe(
        false,
      );
      expect(await store.get(podcast.podcastId)).toEqual({
        ...podcast,
        latestEpisodeDate: '2026-11-24',
        nextEpisodeDate: '2026-12-01',
        updatedAt: at(1),
      });
      expect(ids(await store.listDue('2026-11-24', 10))).toEqual([]);
    });
  });
}

/** What every EpisodeStore does; `makeStore` answers a store holding no episodes. */
export function describeEpisodeStoreContract(name: string, makeStore: () => Promise<EpisodeStore>) {
  describe(`EpisodeStore contract: ${name}`, () => {
    let store: EpisodeStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    const processing = async (changes: Partial<Episode> = {}) => {
      const episode = newEpisode(changes);
      await store.createIfAbsent(episode);
      return (await store.start(episode.episodeId, at(1)))!;
    };

    it('creates an episode only if absent, keeping the first', async () => {
      const episode = newEpisode();
      expect(await store.createIfAbsent(episode)).toBe(true);
      expect(await store.createIfAbsent({ ...episode, title: 'Other' })).toBe(false);
      expect(await store.get(episode.episodeId)).toEqual(episode);
      expect(await store.get('unknown')).toBeUndefined();
    });

    it('hands out copies, never the records it keeps', async () => {
      const episode = newEpisode();
      await store.createIfAbsent(episode);
      episode.title = 'Changed after create';
      (await store.get(episode.episodeId))!.title = 'Changed after get';
      (await store.listPending(10)).items[0]!.title = 'Changed after listing';
      (await store.listByPodcast(episode.podcastId))[0]!.title = 'Changed after listing by podcast';
      expect(await store.get(episode.episodeId)).toMatchObject({ title: 'Morning brief, 24 November' });
    });

    it("lists a podcast's episodes by date", async () => {
      const podcastId = randomUUID();
      const second = newEpisode({ podcastId, episodeDate: '2026-11-24' });
      const first = newEpisode({ podcastId, episodeDate: '2026-11-17' });
      await store.createIfAbsent(second);
      await store.createIfAbsent(first);
      await store.createIfAbsent(newEpisode());
      expect(await store.listByPodcast(podcastId)).toEqual([first, second]);
      expect(await store.listByPodcast(randomUUID())).toEqual([]);
    });

    it('lists pending episodes oldest first, up to `max`', async () => {
      const newer = newEpisode({ createdAt: at(5) });
      const older = newEpisode({ createdAt: at(2) });
      await store.createIfAbsent(newer);
      await store.createIfAbsent(older);
      await processing();
      expect(await store.listPending(10)).toEqual({ items: [older, newer], unreadable: [] });
      expect(ids(await store.listPending(1))).toEqual([older.episodeId]);
    });

    it('starts from pending and from processing, counting attempts; never unknown or finished ones', async () => {
      expect(await store.start('unknown', at(1))).toBeUndefined();
      const episode = newEpisode();
      await store.createIfAbsent(episode);
      expect(await store.start(episode.episodeId, at(1))).toEqual({
        ...episode,
        status: 'processing',
        attempts: 1,
        updatedAt: at(1),
      });
      expect(await store.start(episode.episodeId, at(2))).toMatchObject({ attempts: 2, updatedAt: at(2) });
      await store.finish(episode.episodeId, { status: 'processed', script: 'Hello' }, at(3));
      expect(await store.start(episode.episodeId, at(4))).toBeUndefined();
    });

    it('finishes only from processing, once', async () => {
      const pending = newEpisode();
      await store.createIfAbsent(pending);
      expect(await store.finish(pending.episodeId, { status: 'failed', error: FAILURE }, at(2))).toBe(false);
      const episode = await processing();
      const done = { status: 'processed' as const, script: 'Hello', summary: 'Hi', processedAt: at(2) };
      expect(await store.finish(episode.episodeId, done, at(2))).toBe(true);
      expect(await store.finish(episode.episodeId, { status: 'failed', error: FAILURE }, at(3))).toBe(false);
      expect(await store.get(episode.episodeId)).toEqual({ ...episode, ...done, updatedAt: at(2) });
      expect(await store.finish('unknown', done, at(3))).toBe(false);
    });

    it('lists processing episodes whose last write is older than a cutoff', async () => {
      const stale = await processing({ createdAt: at(0) });
      const busy = newEpisode({ createdAt: at(1) });
      await store.createIfAbsent(busy);
      await store.start(busy.episodeId, at(8));
      await store.createIfAbsent(newEpisode());
      expect(await store.listStaleProcessing(at(5), 10)).toEqual({ items: [stale], unreadable: [] });
      expect(ids(await store.listStaleProcessing(at(9), 10))).toEqual([stale.episodeId, busy.episodeId]);
      expect(ids(await store.listStaleProcessing(at(9), 1))).toHaveLength(1);
    });

    it('reclaims or fails a stale episode only if nothing wrote to it since it was seen', async () => {
      const episode = await processing();
      expect(await store.reclaim(episode.episodeId, at(0), at(5))).toBe(false);
      expect(await store.reclaim(episode.episodeId, at(1), at(5))).toBe(true);
      expect(await store.failStale(episode.episodeId, at(1), FAILURE, at(6))).toBe(false);
      expect(await store.failStale(episode.episodeId, at(5), FAILURE, at(6))).toBe(true);
      expect(await store.get(episode.episodeId)).toEqual({
        ...episode,
        status: 'failed',
        error: FAILURE,
        updatedAt: at(6),
      });
      expect(await store.reclaim(episode.episodeId, at(6), at(7))).toBe(false);
      const pending = newEpisode();
      await store.createIfAbsent(pending);
      expect(await store.reclaim(pending.episodeId, at(0), at(7))).toBe(false);
      expect(await store.failStale(pending.episodeId, at(0), FAILURE, at(7))).toBe(false);
    });
  });
}
