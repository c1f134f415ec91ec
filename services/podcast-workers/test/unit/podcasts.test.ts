import { NotFoundError } from '@offload/errors';
import {
  episodeProcessingV1,
  podcastGenerationV1,
  type EpisodeProcessingV1,
  type PodcastGenerationV1,
} from '@offload/messages';
import {
  addDays,
  checkEpisodes,
  EpisodeNotFoundError,
  generateEpisode,
  getPodcastWithEpisodes,
  newPodcast,
  processEpisode,
  schedulePodcasts,
} from '../../src/domain/podcasts';
import { ScriptedLlm } from '@offload/testing/llm';
import { MemoryEpisodes, MemoryPodcasts, MemoryPublisher } from '../support/memory';

const clock = { now: () => new Date('2026-11-24T12:00:00Z') };
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function podcastsDueAndNot() {
  const podcasts = new MemoryPodcasts();
  await podcasts.create(
    newPodcast({ title: 'Due', frequency: 7, latestEpisodeDate: '2026-11-17' }, id(1), 'now', 'alice'),
  );
  await podcasts.create(
    newPodcast({ title: 'Later', frequency: 7, latestEpisodeDate: '2026-11-20' }, id(2), 'now', 'bob'),
  );
  return podcasts;
}

describe('dates', () => {
  it('adds days across month and year ends in UTC', () => {
    expect(addDays('2026-11-28', 7)).toBe('2026-12-05');
    expect(addDays('2026-12-30', 3)).toBe('2027-01-02');
  });
});

describe('schedulePodcasts', () => {
  it('publishes one v1.0 podcast_generation message per due podcast and reports counts', async () => {
    const podcasts = await podcastsDueAndNot();
    const publisher = new MemoryPublisher<PodcastGenerationV1>();
    const report = await schedulePodcasts({ podcasts, publisher, clock }, 'run-1');
    expect(report).toEqual({ found: 1, sent: 1, failed: 0, batches: 1 });
    expect(podcastGenerationV1.parse(publisher.sent[0])).toMatchObject({
      data: { podcastId: id(1), latestEpisodeDate: '2026-11-17' },
      metadata: { retryCount: 0, source: 'podcast_scheduler', traceId: 'run-1' },
    });
  });
});

describe('checkEpisodes', () => {
  it('publishes one v1.0 episode_processing message per pending episode', async () => {
    const episodes = new MemoryEpisodes();
    const base = { podcastId: id(1), title: 't', attempts: 0, createdAt: 'x', updatedAt: 'x' };
    await episodes.createIfAbsent({ ...base, episodeId: 'a', episodeDate: '2026-11-01', status: 'pending' });
    await episodes.createIfAbsent({
      ...base,
      episodeId: 'b',
      episodeDate: '2026-11-08',
      status: 'processed',
    });
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    expect(await checkEpisodes({ episodes, publisher, clock }, 'run-2')).toEqual({
      found: 1,
      sent: 1,
      failed: 0,
      batches: 1,
    });
    expect(episodeProcessingV1.parse(publisher.sent[0])).toMatchObject({
      data: { episodeId: 'a' },
      metadata: { source: 'episode_checker', traceId: 'run-2' },
    });
  });

  it('carries on the traceId of the scheduler run that created each episode', async () => {
    const episodes = new MemoryEpisodes();
    const base = { podcastId: id(1), title: 't', attempts: 0, createdAt: 'x', updatedAt: 'x' };
    await episodes.createIfAbsent({
      ...base,
      episodeId: 'a',
      episodeDate: '2026-11-01',
      status: 'pending',
      traceId: 'run-1',
    });
    await episodes.createIfAbsent({ ...base, episodeId: 'b', episodeDate: '2026-11-08', status: 'pending' });
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    await checkEpisodes({ episodes, publisher, clock }, 'run-2');
    const traceOf = (episodeId: string) =>
      publisher.sent.find((m) => m.data.episodeId === episodeId)?.metadata.traceId;
    expect([traceOf('a'), traceOf('b')]).toEqual(['run-1', 'run-2']);
  });
});

describe('generateEpisode', () => {
  const message = (latestEpisodeDate = '2026-11-17'): PodcastGenerationV1 => ({
    version: '1.0',
    type: 'podcast_generation',
    data: { podcastId: id(1), title: 'Due', frequency: 7, latestEpisodeDate },
    metadata: { retryCount: 0, source: 'podcast_scheduler' },
  });

  it('creates the due episode as pending with a script and its run’s traceId, and advances the podcast', async () => {
    const podcasts = await podcastsDueAndNot();
    const episodes = new MemoryEpisodes();
    const traced = { ...message(), metadata: { ...message().metadata, traceId: 'run-1' } };
    expect(await generateEpisode({ podcasts, episodes, llm: new ScriptedLlm(), clock }, traced)).toBe(
      'created',
    );
    expect(await episodes.get(`${id(1)}_2026-11-24`)).toMatchObject({
      status: 'pending',
      script: 'reply 1',
      traceId: 'run-1',
    });
    expect(await podcasts.get(id(1))).toMatchObject({
      latestEpisodeDate: '2026-11-24',
      nextEpisodeDate: '2026-12-01',
    });
  });

  it('creates no second episode, and calls no LLM, for a duplicate message', async () => {
    const podcasts = await podcastsDueAndNot();
    const episodes = new MemoryEpisodes();
    const llm = new ScriptedLlm();
    await generateEpisode({ podcasts, episodes, llm, clock }, message());
    expect(await generateEpisode({ podcasts, episodes, llm, clock }, message())).toBe('already-generated');
    expect(episodes.episodes.size).toBe(1);
    expect(llm.calls).toHaveLength(1);
    expect((await podcasts.get(id(1)))?.latestEpisodeDate).toBe('2026-11-24');
  });

  it('lets an LLM failure propagate for a retry, creating nothing', async () => {
    const podcasts = await podcastsDueAndNot();
    const episodes = new MemoryEpisodes();
    await expect(
      generateEpisode({ podcasts, episodes, llm: new ScriptedLlm(1), clock }, message()),
    ).rejects.toThrow('503');
    expect(episodes.episodes.size).toBe(0);
    expect((await podcasts.get(id(1)))?.latestEpisodeDate).toBe('2026-11-17');
  });
});

describe('processEpisode and getPodcastWithEpisodes', () => {
  async function pending() {
    const episodes = new MemoryEpisodes();
    await episodes.createIfAbsent({
      episodeId: 'e1',
      podcastId: id(1),
      episodeDate: '2026-11-24',
      title: 'Due: 2026-11-24',
      status: 'pending',
      script: 'Hello listeners',
      attempts: 0,
      createdAt: 'x',
      updatedAt: 'x',
    });
    return episodes;
  }
  const message: EpisodeProcessingV1 = {
    version: '1.0',
    type: 'episode_processing',
    data: { episodeId: 'e1', podcastId: id(1), status: 'pending', timestamp: '2026-11-24T12:00:00Z' },
    metadata: { retryCount: 0, source: 'episode_checker' },
  };

  it('takes a pending episode to processed with summary and show notes, once', async () => {
    const episodes = await pending();
    const llm = new ScriptedLlm();
    expect(await processEpisode({ episodes, llm, clock }, message, { isLast: false })).toBe('processed');
    expect(await episodes.get('e1')).toMatchObject({
      status: 'processed',
      summary: 'reply 1',
      showNotes: 'reply 2',
      attempts: 1,
    });
    expect(await processEpisode({ episodes, llm, clock }, message, { isLast: false })).toBe('already-done');
    expect(llm.calls).toHaveLength(2);
  });

  it('marks the episode failed only on the last attempt', async () => {
    const episodes = await pending();
    const llm = new ScriptedLlm(2);
    await expect(processEpisode({ episodes, llm, clock }, message, { isLast: false })).rejects.toThrow('503');
    expect((await episodes.get('e1'))?.status).toBe('processing');
    await expect(processEpisode({ episodes, llm, clock }, message, { isLast: true })).rejects.toThrow('503');
    expect(await episodes.get('e1')).toMatchObject({
      status: 'failed',
      error: 'Error: 503 upstream overloaded',
    });
  });

  it('asks for a retry when the episode has no record yet', async () => {
    const episodes = new MemoryEpisodes();
    await expect(
      processEpisode({ episodes, llm: new ScriptedLlm(), clock }, message, { isLast: false }),
    ).rejects.toThrow(EpisodeNotFoundError);
  });

  it("lists the owner's podcast with its episodes oldest first, and 404s an unknown or another's one", async () => {
    const podcasts = await podcastsDueAndNot();
    const episodes = await pending();
    await episodes.createIfAbsent({
      ...(await episodes.get('e1'))!,
      episodeId: 'e0',
      episodeDate: '2026-11-17',
    });
    const view = await getPodcastWithEpisodes(podcasts, episodes, id(1), 'alice');
    expect(view.episodes.map((e) => e.episodeId)).toEqual(['e0', 'e1']);
    expect(view).not.toHaveProperty('owner');
    await expect(getPodcastWithEpisodes(podcasts, episodes, id(9), 'alice')).rejects.toThrow(NotFoundError);
    await expect(getPodcastWithEpisodes(podcasts, episodes, id(1), 'bob')).rejects.toThrow(
      new NotFoundError(`Podcast ${id(1)} not found`),
    );
  });
});
