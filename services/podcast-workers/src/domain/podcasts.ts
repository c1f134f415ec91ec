import type { Llm } from '@offload/llm';
import { describeError, NotFoundError, OffloadError } from '@offload/errors';
import type {
  CreatePodcastBody,
  Episode,
  EpisodeProcessingV1,
  Podcast,
  PodcastGenerationV1,
} from '@offload/messages';

export interface PodcastStore {
  create(podcast: Podcast): Promise<void>;
  get(podcastId: string): Promise<Podcast | undefined>;
  /** Podcasts whose next episode date is on or before `today`, read through an index. */
  listDue(today: string): Promise<Podcast[]>;
  /** Moves latestEpisodeDate from `from` to `to`; false if it had already moved. */
  advance(
    podcastId: string,
    from: string,
    to: string,
    nextEpisodeDate: string,
    now: string,
  ): Promise<boolean>;
}

export interface EpisodeStore {
  /** Creates the episode unless one with its id exists; false if it existed. */
  createIfAbsent(episode: Episode): Promise<boolean>;
  get(episodeId: string): Promise<Episode | undefined>;
  listByPodcast(podcastId: string): Promise<Episode[]>;
  /** Episodes in `pending`, read through an index. */
  listPending(): Promise<Episode[]>;
  /** pending|processing -> processing, counting the attempt; undefined if in neither state. */
  start(episodeId: string, now: string): Promise<Episode | undefined>;
  /** processing -> processed|failed; false if it had already left `processing`. */
  finish(
    episodeId: string,
    changes: Pick<Episode, 'status'> & Partial<Episode>,
    now: string,
  ): Promise<boolean>;
}

export interface SendSummary {
  sent: number;
  failed: number;
  batches: number;
}

export interface Publisher<Message> {
  /** Sends in SendMessageBatch calls of 10. */
  send(messages: Message[]): Promise<SendSummary>;
}

export interface Clock {
  now(): Date;
}

export class EpisodeNotFoundError extends OffloadError {}

/** `date` plus `days`, both ISO dates (YYYY-MM-DD), in UTC. */
export function addDays(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

const today = (clock: Clock) => clock.now().toISOString().slice(0, 10);

export function newPodcast(body: CreatePodcastBody, podcastId: string, now: string, owner: string): Podcast {
  return {
    podcastId,
    owner,
    ...body,
    nextEpisodeDate: addDays(body.latestEpisodeDate, body.frequency),
    createdAt: now,
    updatedAt: now,
  };
}

export async function getPodcastWithEpisodes(
  podcasts: PodcastStore,
  episodes: EpisodeStore,
  podcastId: string,
  owner: string,
) {
  const found = await podcasts.get(podcastId);
  // Another caller's podcast is indistinguishable from a missing one.
  if (!found || found.owner !== owner) throw new NotFoundError(`Podcast ${podcastId} not found`);
  const { owner: _owner, ...podcast } = found;
  const list = await episodes.listByPodcast(podcastId);
  return { ...podcast, episodes: list.sort((a, b) => a.episodeDate.localeCompare(b.episodeDate)) };
}

export interface PublishReport extends SendSummary {
  found: number;
}

/**
 * The podcast scheduler: only discovers due podcasts and publishes one versioned
 * `podcast_generation` message each. It generates nothing; a podcast whose message failed to send
 * is still due and is found again next run. `traceId` (the run's correlation id) goes into every
 * message, so the generator's lines for them carry it.
 */
export async function schedulePodcasts(
  deps: {
    podcasts: PodcastStore;
    publisher: Publisher<PodcastGenerationV1>;
    clock: Clock;
  },
  traceId?: string,
): Promise<PublishReport> {
  const due = await deps.podcasts.listDue(today(deps.clock));
  const summary = await deps.publisher.send(
    due.map((podcast) => ({
      version: '1.0',
      type: 'podcast_generation',
      data: {
        podcastId: podcast.podcastId,
        title: podcast.title,
        frequency: podcast.frequency,
        latestEpisodeDate: podcast.latestEpisodeDate,
      },
      metadata: { retryCount: 0, source: 'podcast_scheduler', ...(traceId && { traceId }) },
    })),
  );
  return { found: due.length, ...summary };
}

/**
 * The episode checker: finds `pending` episodes and publishes one `episode_processing` each. Each
 * message carries the traceId of the scheduler run that created its episode (so one id follows an
 * episode from schedule to `processed`), or this run's for episodes created without one.
 */
export async function checkEpisodes(
  deps: {
    episodes: EpisodeStore;
    publisher: Publisher<EpisodeProcessingV1>;
    clock: Clock;
  },
  traceId?: string,
): Promise<PublishReport> {
  const pending = await deps.episodes.listPending();
  const timestamp = deps.clock.now().toISOString();
  const summary = await deps.publisher.send(
    pending.map((episode) => {
      const trace = episode.traceId ?? traceId;
      return {
        version: '1.0',
        type: 'episode_processing',
        data: {
          episodeId: episode.episodeId,
          podcastId: episode.podcastId,
          status: episode.status,
          timestamp,
        },
        metadata: { retryCount: 0, source: 'episode_checker', ...(trace && { traceId: trace }) },
      };
    }),
  );
  return { found: pending.length, ...summary };
}

/** One episode per podcast and due date, whoever asks and however often. */
export const episodeIdFor = (podcastId: string, episodeDate: string) => `${podcastId}_${episodeDate}`;

export type GenerateOutcome = 'created' | 'already-generated';

/**
 * The podcast generator: creates the due episode (`pending`, script from the LLM) and advances
 * the podcast. Idempotent: the episode id is derived from the podcast and its due date, so a
 * redelivered or duplicate message finds the episode and creates no second one.
 */
export async function generateEpisode(
  deps: { podcasts: PodcastStore; episodes: EpisodeStore; llm: Llm; clock: Clock },
  message: PodcastGenerationV1,
): Promise<GenerateOutcome> {
  const { podcastId, title, frequency, latestEpisodeDate } = message.data;
  const episodeDate = addDays(latestEpisodeDate, frequency);
  const episodeId = episodeIdFor(podcastId, episodeDate);
  const now = deps.clock.now().toISOString();
  let outcome: GenerateOutcome = 'already-generated';
  if (!(await deps.episodes.get(episodeId))) {
    const script = await deps.llm.complete([
      { role: 'system', content: 'You write short, lively podcast episode scripts.' },
      { role: 'user', content: `Podcast: ${title}\nEpisode date: ${episodeDate}\nWrite the opening script.` },
    ]);
    const created = await deps.episodes.createIfAbsent({
      episodeId,
      podcastId,
      episodeDate,
      title: `${title}: ${episodeDate}`,
      status: 'pending',
      script,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      ...(message.metadata.traceId && { traceId: message.metadata.traceId }),
    });
    if (created) outcome = 'created';
  }
  // Advancing after the episode exists means a crash in between is healed by the redelivery.
  await deps.podcasts.advance(
    podcastId,
    latestEpisodeDate,
    episodeDate,
    addDays(episodeDate, frequency),
    now,
  );
  return outcome;
}

export type ProcessOutcome = 'processed' | 'already-done';

/**
 * The episode processor: pending -> processed with a summary and show notes from the LLM.
 * Idempotent by conditional writes; on the last attempt a failure marks the episode `failed`.
 */
export async function processEpisode(
  deps: { episodes: EpisodeStore; llm: Llm; clock: Clock },
  message: EpisodeProcessingV1,
  attempt: { isLast: boolean },
): Promise<ProcessOutcome> {
  const { episodeId } = message.data;
  const episode = await deps.episodes.start(episodeId, deps.clock.now().toISOString());
  if (!episode) {
    if (!(await deps.episodes.get(episodeId)))
      throw new EpisodeNotFoundError(`Episode ${episodeId} has no record`);
    return 'already-done';
  }
  try {
    const source = episode.script ?? episode.title;
    const summary = await deps.llm.complete([
      { role: 'system', content: 'Summarise this podcast episode in two sentences.' },
      { role: 'user', content: source },
    ]);
    const showNotes = await deps.llm.complete([
      { role: 'system', content: 'Write three bullet-point show notes for this podcast episode.' },
      { role: 'user', content: source },
    ]);
    const now = deps.clock.now().toISOString();
    await deps.episodes.finish(episodeId, { status: 'processed', summary, showNotes, processedAt: now }, now);
    return 'processed';
  } catch (error) {
    if (attempt.isLast) {
      await deps.episodes.finish(
        episodeId,
        { status: 'failed', error: describeError(error) },
        deps.clock.now().toISOString(),
      );
    }
    throw error;
  }
}
