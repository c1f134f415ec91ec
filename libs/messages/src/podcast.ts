import * as z from 'zod/mini';
import { publicFailureSchema, storedFailureSchema } from './failure';
import { line } from './text';

export const PODCAST_BODY_MAX_BYTES = 8 * 1024;

/**
 * The window every podcast date lives in. Dates outside it are refused on the way in and skipped on
 * the way out: a far-future date (`9999-12-31` plus a frequency is year 10000, which no ISO date
 * parser reads back) or a far-past one (years of catch-up) would otherwise hold up the scheduler.
 */
export const PODCAST_EARLIEST_DATE = '2000-01-01';
/** latestEpisodeDate may be at most this many days after today (UTC): a year, leap day included. */
export const PODCAST_MAX_DAYS_AHEAD = 366;
export const PODCAST_MAX_FREQUENCY_DAYS = 365;

/** `date` plus `days`, both ISO dates (YYYY-MM-DD), in UTC. */
export function addDays(date: string, days: number): string {
  const at = new Date(`${date}T00:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return at.toISOString().slice(0, 10);
}

/**
 * The dates a podcast may hold on `today`: latestEpisodeDate within [earliest, latest], and
 * nextEpisodeDate (latestEpisodeDate + frequency) within [earliest, latestNext]. Lexical order is
 * date order for YYYY-MM-DD, which is all the checks need.
 */
export function podcastDateWindow(today: string) {
  const latest = addDays(today, PODCAST_MAX_DAYS_AHEAD);
  return {
    earliest: PODCAST_EARLIEST_DATE,
    latest,
    latestNext: addDays(latest, PODCAST_MAX_FREQUENCY_DAYS),
  };
}

const todayUtc = () => new Date().toISOString().slice(0, 10);

/** POST /podcasts body. The API speaks snake_case; the stored record keeps its camelCase names. */
export const createPodcastBodySchema = z.strictObject({
  title: line(200),
  /** Days between episodes. */
  frequency: z
    .number()
    .check(
      z.int(),
      z.gte(1, 'must be at least 1'),
      z.lte(PODCAST_MAX_FREQUENCY_DAYS, `must be at most ${PODCAST_MAX_FREQUENCY_DAYS}`),
    ),
  /** The date the last episode came out; the next is due `frequency` days later. */
  latest_episode_date: z.pipe(
    z.iso.date({ error: 'must be an ISO 8601 date (YYYY-MM-DD)' }),
    z.string().check(
      z.refine((date) => date >= PODCAST_EARLIEST_DATE, `must be on or after ${PODCAST_EARLIEST_DATE}`),
      z.refine(
        (date) => date <= podcastDateWindow(todayUtc()).latest,
        `must be at most ${PODCAST_MAX_DAYS_AHEAD} days after today`,
      ),
    ),
  ),
});
export type CreatePodcastBody = z.infer<typeof createPodcastBodySchema>;

export const podcastSchema = z.object({
  podcastId: z.uuid(),
  /** The caller who registered it; only they can read it. Absent on records from before owners. */
  owner: z.optional(z.string().check(z.minLength(1))),
  title: z.string(),
  frequency: z.number().check(z.int(), z.positive()),
  latestEpisodeDate: z.iso.date(),
  /** latestEpisodeDate + frequency, kept so an index can answer "which podcasts are due". */
  nextEpisodeDate: z.iso.date(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Podcast = z.infer<typeof podcastSchema>;

/** A podcast as the API shows it (POST /podcasts, GET /podcasts/{id}): snake_case, without `owner`. */
export const podcastViewSchema = z.object({
  podcast_id: z.uuid(),
  title: z.string(),
  frequency: z.number().check(z.int(), z.positive()),
  latest_episode_date: z.iso.date(),
  next_episode_date: z.iso.date(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
export type PodcastView = z.infer<typeof podcastViewSchema>;

export function podcastView(podcast: Omit<Podcast, 'owner'>): PodcastView {
  return {
    podcast_id: podcast.podcastId,
    title: podcast.title,
    frequency: podcast.frequency,
    latest_episode_date: podcast.latestEpisodeDate,
    next_episode_date: podcast.nextEpisodeDate,
    created_at: podcast.createdAt,
    updated_at: podcast.updatedAt,
  };
}

export const episodeStatusSchema = z.enum(['pending', 'processing', 'processed', 'failed']);
export type EpisodeStatus = z.infer<typeof episodeStatusSchema>;

export const episodeSchema = z.object({
  episodeId: z.string().check(z.minLength(1)),
  podcastId: z.uuid(),
  /** The due date the episode was generated for; with podcastId it makes generation idempotent. */
  episodeDate: z.iso.date(),
  title: z.string(),
  status: episodeStatusSchema,
  script: z.optional(z.string()),
  summary: z.optional(z.string()),
  showNotes: z.optional(z.string()),
  /**
   * Why it failed, for the client (see publicFailureOf). Records written before errors were public
   * objects hold the internal chain as a string; it reads as the generic internal failure.
   */
  error: z.optional(storedFailureSchema),
  attempts: z.number().check(z.int(), z.nonnegative()),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  processedAt: z.optional(z.iso.datetime()),
  /** The correlation id of the scheduler run that asked for it; the checker's message carries it on. */
  traceId: z.optional(z.string()),
});
export type Episode = z.infer<typeof episodeSchema>;

/** An episode as GET /podcasts/{id} lists it: the stored fields in snake_case. */
export const episodeViewSchema = z.object({
  episode_id: z.string().check(z.minLength(1)),
  podcast_id: z.uuid(),
  episode_date: z.iso.date(),
  title: z.string(),
  status: episodeStatusSchema,
  script: z.optional(z.string()),
  summary: z.optional(z.string()),
  show_notes: z.optional(z.string()),
  error: z.optional(publicFailureSchema),
  attempts: z.number().check(z.int(), z.nonnegative()),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  processed_at: z.optional(z.iso.datetime()),
  trace_id: z.optional(z.string()),
});
export type EpisodeView = z.infer<typeof episodeViewSchema>;

export function episodeView(episode: Episode): EpisodeView {
  return {
    episode_id: episode.episodeId,
    podcast_id: episode.podcastId,
    episode_date: episode.episodeDate,
    title: episode.title,
    status: episode.status,
    ...(episode.script !== undefined && { script: episode.script }),
    ...(episode.summary !== undefined && { summary: episode.summary }),
    ...(episode.showNotes !== undefined && { show_notes: episode.showNotes }),
    ...(episode.error !== undefined && { error: episode.error }),
    attempts: episode.attempts,
    created_at: episode.createdAt,
    updated_at: episode.updatedAt,
    ...(episode.processedAt !== undefined && { processed_at: episode.processedAt }),
    ...(episode.traceId !== undefined && { trace_id: episode.traceId }),
  };
}

const podcastMetadata = <Source extends string>(source: Source) =>
  z.object({
    retryCount: z.number().check(z.int(), z.nonnegative()),
    source: z.literal(source),
    traceId: z.optional(z.string()),
  });

/**
 * The publishers' messages, in the structure the migration plan fixed: versioned, with the
 * sender and a retry count in metadata. A consumer accepts exactly the versions listed here.
 */
export const episodeProcessingV1 = z.object({
  version: z.literal('1.0'),
  type: z.literal('episode_processing'),
  data: z.object({
    episodeId: z.string().check(z.minLength(1)),
    podcastId: z.uuid(),
    status: episodeStatusSchema,
    timestamp: z.iso.datetime(),
  }),
  metadata: podcastMetadata('episode_checker'),
});
export type EpisodeProcessingV1 = z.infer<typeof episodeProcessingV1>;

export const podcastGenerationV1 = z.object({
  version: z.literal('1.0'),
  type: z.literal('podcast_generation'),
  data: z.object({
    podcastId: z.uuid(),
    title: z.string().check(z.minLength(1)),
    frequency: z.number().check(z.int(), z.positive()),
    latestEpisodeDate: z.iso.date(),
  }),
  metadata: podcastMetadata('podcast_scheduler'),
});
export type PodcastGenerationV1 = z.infer<typeof podcastGenerationV1>;
