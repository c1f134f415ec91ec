import {
  ConflictError,
  INTERNAL_FAILURE,
  NotFoundError,
  NotFoundYetError,
  PoisonMessageError,
  ValidationError,
} from '@offload/errors';
import { statusOf } from '@offload/middleware';
import type { ChatMessage, CompleteOptions, Llm } from '@offload/llm';
import {
  episodeProcessingV1,
  podcastGenerationV1,
  type EpisodeProcessingV1,
  type PodcastGenerationV1,
} from '@offload/messages';
import {
  addDays,
  checkEpisodes,
  dueEpisodeDate,
  EpisodeTimedOutError,
  generateEpisode,
  getPodcastWithEpisodes,
  MAX_CATCH_UP_PERIODS,
  newPodcast,
  PodcastUnreadableError,
  processEpisode,
  scheduleProblem,
  schedulePodcasts,
  workBudgetMs,
} from '../../src/domain/podcasts';
import { fixedClock } from '@offload/testing/clock';
import { ScriptedLlm } from '@offload/testing/llm';
import { MemoryEpisodes, MemoryPodcasts, MemoryPublisher } from '../support/memory';

const clock = fixedClock('2026-11-24T12:00:00Z');
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const created = '2026-11-01T00:00:00.000Z';
const checkOptions = { staleAfterMs: 30 * 60_000, maxAttempts: 5 };

/** A store holding one pending episode of podcast 1, due on the clock's day. */
async function pendingEpisode(episodeId: string, title: string, script: string) {
  const episodes = new MemoryEpisodes();
  await episodes.createIfAbsent({
    episodeId,
    podcastId: id(1),
    episodeDate: '2026-11-24',
    title,
    status: 'pending',
    script,
    attempts: 0,
    createdAt: created,
    updatedAt: created,
  });
  return episodes;
}

/** The checker's processing message for a pending episode of podcast 1. */
const processingMessage = (episodeId: string): EpisodeProcessingV1 => ({
  version: '1.0',
  type: 'episode_processing',
  data: { episodeId, podcastId: id(1), status: 'pending', timestamp: '2026-11-24T12:00:00Z' },
  metadata: { retryCount: 0, source: 'episode_checker' },
});

async function podcastsDueAndNot() {
  const podcasts = new MemoryPodcasts();
  await podcasts.create(
    newPodcast({ title: 'Due', frequency: 7, latest_episode_date: '2026-11-17' }, id(1), created, 'alice'),
  );
  await podcasts.create(
    newPodcast({ title: 'Later', frequency: 7, latest_episode_date: '2026-11-20' }, id(2), created, 'bob'),
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
    const { report } = await schedulePodcasts({ podcasts, publisher, clock }, 'run-1');
    expect(report).toEqual({ found: 1, sent: 1, failed: 0, batches: 1, skipped: 0 });
    expect(podcastGenerationV1.parse(publisher.sent[0])).toMatchObject({
      data: { podcastId: id(1), latestEpisodeDate: '2026-11-17' },
      metadata: { retryCount: 0, source: 'podcast_scheduler', traceId: 'run-1' },
    });
  });
});

describe('checkEpisodes', () => {
  it('publishes one v1.0 episode_processing message per pending episode', async () => {
    const episodes = new MemoryEpisodes();
    const base = { podcastId: id(1), title: 't', attempts: 0, createdAt: created, updatedAt: created };
    await episodes.createIfAbsent({ ...base, episodeId: 'a', episodeDate: '2026-11-01', status: 'pending' });
    await episodes.createIfAbsent({
      ...base,
      episodeId: 'b',
      episodeDate: '2026-11-08',
      status: 'processed',
    });
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    const { report } = await checkEpisodes({ episodes, publisher, clock }, checkOptions, 'run-2');
    expect(report).toEqual({
      found: 1,
      sent: 1,
      failed: 0,
      batches: 1,
      skipped: 0,
      reclaimed: 0,
      expired: 0,
    });
    expect(episodeProcessingV1.parse(publisher.sent[0])).toMatchObject({
      data: { episodeId: 'a' },
      metadata: { source: 'episode_checker', traceId: 'run-2' },
    });
  });

  it('carries on the traceId of the scheduler run that created each episode', async () => {
    const episodes = new MemoryEpisodes();
    const base = { podcastId: id(1), title: 't', attempts: 0, createdAt: created, updatedAt: created };
    await episodes.createIfAbsent({
      ...base,
      episodeId: 'a',
      episodeDate: '2026-11-01',
      status: 'pending',
      traceId: 'run-1',
    });
    await episodes.createIfAbsent({ ...base, episodeId: 'b', episodeDate: '2026-11-08', status: 'pending' });
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    await checkEpisodes({ episodes, publisher, clock }, checkOptions, 'run-2');
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
  const pending = () => pendingEpisode('e1', 'Due: 2026-11-24', 'Hello listeners');
  const message = processingMessage('e1');

  it('takes a pending episode to processed with summary and show notes, once', async () => {
    const episodes = await pending();
    const llm = new ScriptedLlm();
    expect(await processEpisode({ episodes, llm, clock }, message, { isLastAttempt: false })).toBe(
      'processed',
    );
    expect(await episodes.get('e1')).toMatchObject({
      status: 'processed',
      summary: 'reply 1',
      showNotes: 'reply 2',
      attempts: 1,
    });
    expect(await processEpisode({ episodes, llm, clock }, message, { isLastAttempt: false })).toBe(
      'already-done',
    );
    expect(llm.calls).toHaveLength(2);
  });

  it('marks the episode failed only on the last attempt', async () => {
    const episodes = await pending();
    const llm = new ScriptedLlm(2);
    await expect(processEpisode({ episodes, llm, clock }, message, { isLastAttempt: false })).rejects.toThrow(
      '503',
    );
    expect((await episodes.get('e1'))?.status).toBe('processing');
    await expect(processEpisode({ episodes, llm, clock }, message, { isLastAttempt: true })).rejects.toThrow(
      '503',
    );
    const failed = await episodes.get('e1');
    expect(failed).toMatchObject({ status: 'failed', error: INTERNAL_FAILURE });
    expect(JSON.stringify(failed)).not.toContain('503');
  });

  it('asks for a retry when the episode has no record yet', async () => {
    const episodes = new MemoryEpisodes();
    await expect(
      processEpisode({ episodes, llm: new ScriptedLlm(), clock }, message, { isLastAttempt: false }),
    ).rejects.toThrow(NotFoundYetError);
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

describe('the date window and the catch-up bound', () => {
  it('refuses, in the domain too, a podcast whose dates leave the window', () => {
    const body = (latest_episode_date: string, frequency = 1) => ({
      title: 't',
      frequency,
      latest_episode_date,
    });
    for (const date of ['9999-12-31', '0001-01-01', '1999-12-31', '2027-12-01']) {
      expect(() => newPodcast(body(date), id(1), '2026-11-24T12:00:00Z', 'alice')).toThrow(ValidationError);
    }
    try {
      newPodcast(body('9999-12-31'), id(1), '2026-11-24T12:00:00Z', 'alice');
    } catch (error) {
      expect((error as ValidationError).details?.[0]?.field).toBe('latest_episode_date');
    }
    // The edges are inside: 2000-01-01, and 366 days after today.
    expect(newPodcast(body('2000-01-01'), id(1), '2026-11-24T12:00:00Z', 'alice').nextEpisodeDate).toBe(
      '2000-01-02',
    );
    expect(newPodcast(body('2027-11-25', 365), id(1), '2026-11-24T12:00:00Z', 'alice').nextEpisodeDate).toBe(
      '2028-11-24',
    );
  });

  it('names the problem of a stored schedule outside the window, field only', () => {
    const today = '2026-11-24';
    const ok = { frequency: 7, latestEpisodeDate: '2026-11-17', nextEpisodeDate: '2026-11-24' };
    expect(scheduleProblem(ok, today)).toBeUndefined();
    expect(scheduleProblem({ ...ok, latestEpisodeDate: '0001-01-01' }, today)).toEqual({
      field: 'latestEpisodeDate',
      message: 'is outside 2000-01-01..2027-11-25',
    });
    expect(scheduleProblem({ ...ok, nextEpisodeDate: '+010000-01' }, today)?.field).toBe('nextEpisodeDate');
    expect(scheduleProblem({ ...ok, frequency: 0 }, today)?.field).toBe('frequency');
  });

  it('catches up one period at a time only while few are missed, then jumps to the latest due date', () => {
    const today = '2026-11-24';
    expect(dueEpisodeDate('2026-11-17', 7, today)).toBe('2026-11-24');
    // MAX_CATCH_UP_PERIODS dates due: still the oldest first.
    expect(MAX_CATCH_UP_PERIODS).toBe(3);
    expect(dueEpisodeDate('2026-11-03', 7, today)).toBe('2026-11-10');
    // One more: straight to today's due date, skipping the rest.
    expect(dueEpisodeDate('2026-10-27', 7, today)).toBe('2026-11-24');
    // 9,000 days behind at frequency 1 is one step, not 9,000 runs.
    expect(dueEpisodeDate('2002-03-01', 1, today)).toBe(today);
    expect(dueEpisodeDate('2026-11-10', 30, today)).toBe('2026-12-10');
  });

  it('brings a podcast years behind to a future next date in one generation', async () => {
    const podcasts = new MemoryPodcasts();
    await podcasts.create(
      newPodcast({ title: 'Old', frequency: 1, latest_episode_date: '2000-01-01' }, id(1), created, 'alice'),
    );
    const episodes = new MemoryEpisodes();
    const deps = { podcasts, episodes, llm: new ScriptedLlm(), clock };
    const message: PodcastGenerationV1 = {
      version: '1.0',
      type: 'podcast_generation',
      data: { podcastId: id(1), title: 'Old', frequency: 1, latestEpisodeDate: '2000-01-01' },
      metadata: { retryCount: 0, source: 'podcast_scheduler' },
    };
    expect(await generateEpisode(deps, message)).toBe('created');
    expect([...episodes.episodes.keys()]).toEqual([`${id(1)}_2026-11-24`]);
    expect(await podcasts.get(id(1))).toMatchObject({
      latestEpisodeDate: '2026-11-24',
      nextEpisodeDate: '2026-11-25',
    });
    // The same message again (a redelivery, maybe on a later day) finds the podcast moved on.
    const later = fixedClock('2026-11-27T12:00:00Z');
    expect(await generateEpisode({ ...deps, clock: later }, message)).toBe('already-generated');
    expect(episodes.episodes.size).toBe(1);
  });

  it('treats a generation message whose dates leave the window as poison', async () => {
    const deps = {
      podcasts: new MemoryPodcasts(),
      episodes: new MemoryEpisodes(),
      llm: new ScriptedLlm(),
      clock,
    };
    const message: PodcastGenerationV1 = {
      version: '1.0',
      type: 'podcast_generation',
      data: { podcastId: id(1), title: 'Far', frequency: 1, latestEpisodeDate: '9999-12-31' },
      metadata: { retryCount: 0, source: 'podcast_scheduler' },
    };
    await expect(generateEpisode(deps, message)).rejects.toThrow(PoisonMessageError);
    expect(deps.llm.calls).toHaveLength(0);
  });
});

describe('unreadable records', () => {
  const corrupt = (n: number, changes: Record<string, unknown>) => ({
    podcastId: id(n),
    title: 'Corrupt',
    frequency: 1,
    latestEpisodeDate: '2026-11-01',
    nextEpisodeDate: '2026-11-02',
    createdAt: created,
    updatedAt: created,
    ...changes,
  });

  it('skips, names and counts them, and schedules every other due podcast', async () => {
    const podcasts = await podcastsDueAndNot();
    // Sorts first in the due index and parses as no date: what `9999-12-31` + 1 day used to store.
    podcasts.putRaw(corrupt(7, { latestEpisodeDate: '9999-12-31', nextEpisodeDate: '+010000-01' }));
    // Parses, but lies outside the window.
    podcasts.putRaw(corrupt(8, { latestEpisodeDate: '0001-01-01', nextEpisodeDate: '0001-01-02' }));
    for (let n = 10; n < 13; n++)
      await podcasts.create(
        newPodcast(
          { title: `Due ${n}`, frequency: 7, latest_episode_date: '2026-11-10' },
          id(n),
          created,
          'alice',
        ),
      );
    const publisher = new MemoryPublisher<PodcastGenerationV1>();
    const { report, unreadable } = await schedulePodcasts({ podcasts, publisher, clock });
    expect(report).toEqual({ found: 6, sent: 4, failed: 0, batches: 1, skipped: 2 });
    expect(unreadable.map((r) => r.key).sort()).toEqual([id(7), id(8)]);
    expect(unreadable.find((r) => r.key === id(8))?.reason).toMatch(/^latestEpisodeDate is outside/);
    expect(JSON.stringify(unreadable)).not.toContain('Corrupt');
    expect(publisher.sent.map((m) => m.data.podcastId).sort()).toEqual([id(1), id(10), id(11), id(12)]);
  });

  it('answers GET of an unreadable podcast with a 409, not a crash', async () => {
    const podcasts = new MemoryPodcasts();
    podcasts.putRaw(corrupt(7, { nextEpisodeDate: '+010000-01' }));
    const error = await getPodcastWithEpisodes(podcasts, new MemoryEpisodes(), id(7), 'alice').catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(PodcastUnreadableError);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ code: 'podcast_unreadable' });
    expect(statusOf(error as ConflictError)).toBe(409);
  });

  it('lets the episode checker skip an unreadable episode and send the others', async () => {
    const episodes = new MemoryEpisodes();
    const base = { podcastId: id(1), title: 't', attempts: 0, createdAt: created, updatedAt: created };
    await episodes.createIfAbsent({ ...base, episodeId: 'a', episodeDate: '2026-11-01', status: 'pending' });
    episodes.putRaw({ ...base, episodeId: 'bad', episodeDate: '+010000-01', status: 'pending' });
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    const { report, unreadable } = await checkEpisodes({ episodes, publisher, clock }, checkOptions);
    expect(report).toMatchObject({ found: 2, sent: 1, skipped: 1 });
    expect(unreadable).toEqual([{ key: 'bad', reason: 'episodeDate' }]);
    expect(publisher.sent.map((m) => m.data.episodeId)).toEqual(['a']);
  });
});

describe('episodes left processing', () => {
  async function processingSince(updatedAt: string, attempts: number) {
    const episodes = new MemoryEpisodes();
    await episodes.createIfAbsent({
      episodeId: 'stuck',
      podcastId: id(1),
      episodeDate: '2026-11-24',
      title: 't',
      status: 'processing',
      attempts,
      createdAt: created,
      updatedAt,
    });
    return episodes;
  }

  it('leaves one that is still within the threshold alone', async () => {
    const episodes = await processingSince('2026-11-24T11:45:00.000Z', 1);
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    const { report } = await checkEpisodes({ episodes, publisher, clock }, checkOptions);
    expect(report).toMatchObject({ found: 0, sent: 0, reclaimed: 0, expired: 0 });
  });

  it('claims a stale one once, sends it again, and a second run finds it claimed', async () => {
    const episodes = await processingSince('2026-11-24T11:00:00.000Z', 1);
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    const { report } = await checkEpisodes({ episodes, publisher, clock }, checkOptions);
    expect(report).toMatchObject({ found: 1, sent: 1, reclaimed: 1, expired: 0 });
    expect(publisher.sent[0]?.data).toMatchObject({ episodeId: 'stuck', status: 'processing' });
    expect((await episodes.get('stuck'))?.updatedAt).toBe('2026-11-24T12:00:00.000Z');
    const again = await checkEpisodes(
      { episodes, publisher, clock: fixedClock('2026-11-24T12:05:00Z') },
      checkOptions,
    );
    expect(again.report).toMatchObject({ found: 0, reclaimed: 0 });
    // Processed from the resent message as usual.
    const llm = new ScriptedLlm();
    expect(await processEpisode({ episodes, llm, clock }, publisher.sent[0]!, { isLastAttempt: false })).toBe(
      'processed',
    );
  });

  it('fails a stale one that has had every attempt, with the public timed_out reason', async () => {
    const episodes = await processingSince('2026-11-24T11:00:00.000Z', 5);
    const publisher = new MemoryPublisher<EpisodeProcessingV1>();
    const { report } = await checkEpisodes({ episodes, publisher, clock }, checkOptions);
    expect(report).toMatchObject({ found: 1, sent: 0, reclaimed: 0, expired: 1 });
    expect(await episodes.get('stuck')).toMatchObject({
      status: 'failed',
      error: { code: 'timed_out', message: expect.any(String) },
    });
  });
});

/** An LLM that answers after `delayMs`, or rejects with the abort reason when its signal fires. */
class SlowLlm implements Llm {
  readonly signals: (AbortSignal | undefined)[] = [];
  constructor(private delayMs: number) {}
  complete(_messages: ChatMessage[], options?: CompleteOptions) {
    this.signals.push(options?.signal);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => resolve('late reply'), this.delayMs);
      options?.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(options.signal?.reason);
      });
    });
  }
}

describe('the episode time budget', () => {
  const pending = () => pendingEpisode('slow', 't', 'A long one');
  const message = processingMessage('slow');

  it('keeps a margin of 10% (1 to 10 s) of the remaining time for recording the outcome', () => {
    expect(workBudgetMs(5000)).toBe(4000);
    expect(workBudgetMs(30_000)).toBe(27_000);
    expect(workBudgetMs(120_000)).toBe(110_000);
  });

  it('aborts an LLM call that outlasts the budget and rethrows it for a retry before the last attempt', async () => {
    const episodes = await pending();
    const llm = new SlowLlm(5000);
    const started = Date.now();
    await expect(
      processEpisode({ episodes, llm, clock }, message, { isLastAttempt: false, budgetMs: 100 }),
    ).rejects.toThrow(EpisodeTimedOutError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(llm.signals[0]?.aborted).toBe(true);
    expect((await episodes.get('slow'))?.status).toBe('processing');
  });

  it('ends the episode failed with timed_out on the last attempt', async () => {
    const episodes = await pending();
    await expect(
      processEpisode({ episodes, llm: new SlowLlm(5000), clock }, message, {
        isLastAttempt: true,
        budgetMs: 100,
      }),
    ).rejects.toThrow(EpisodeTimedOutError);
    expect(await episodes.get('slow')).toMatchObject({
      status: 'failed',
      error: { code: 'timed_out', message: 'Processing did not finish within its time limit' },
    });
  });

  it('shares one budget between both calls: the second gets only what the first left', async () => {
    const episodes = await pending();
    const llm = new SlowLlm(150);
    await expect(
      processEpisode({ episodes, llm, clock }, message, { isLastAttempt: true, budgetMs: 250 }),
    ).rejects.toThrow(EpisodeTimedOutError);
    expect(llm.signals).toHaveLength(2);
    expect((await episodes.get('slow'))?.error).toMatchObject({ code: 'timed_out' });
  });

  it('finishes as usual within the budget', async () => {
    const episodes = await pending();
    const outcome = await processEpisode({ episodes, llm: new SlowLlm(10), clock }, message, {
      isLastAttempt: true,
      budgetMs: 2000,
    });
    expect(outcome).toBe('processed');
  });
});
