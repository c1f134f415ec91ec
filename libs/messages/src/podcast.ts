import * as z from 'zod';
import { line } from './text';

export const PODCAST_BODY_MAX_BYTES = 8 * 1024;

export const createPodcastBodySchema = z.strictObject({
  title: line(200),
  /** Days between episodes. */
  frequency: z.number().int().min(1, 'must be at least 1').max(365, 'must be at most 365'),
  /** The date the last episode came out; the next is due `frequency` days later. */
  latestEpisodeDate: z.iso.date({ error: 'must be an ISO 8601 date (YYYY-MM-DD)' }),
});
export type CreatePodcastBody = z.infer<typeof createPodcastBodySchema>;

export const podcastSchema = z.object({
  podcastId: z.uuid(),
  /** The caller who registered it; only they can read it. Absent on records from before owners. */
  owner: z.string().min(1).optional(),
  title: z.string(),
  frequency: z.number().int().positive(),
  latestEpisodeDate: z.iso.date(),
  /** latestEpisodeDate + frequency, kept so an index can answer "which podcasts are due". */
  nextEpisodeDate: z.iso.date(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Podcast = z.infer<typeof podcastSchema>;

export const episodeStatusSchema = z.enum(['pending', 'processing', 'processed', 'failed']);
export type EpisodeStatus = z.infer<typeof episodeStatusSchema>;

export const episodeSchema = z.object({
  episodeId: z.string().min(1),
  podcastId: z.uuid(),
  /** The due date the episode was generated for; with podcastId it makes generation idempotent. */
  episodeDate: z.iso.date(),
  title: z.string(),
  status: episodeStatusSchema,
  script: z.string().optional(),
  summary: z.string().optional(),
  showNotes: z.string().optional(),
  error: z.string().optional(),
  attempts: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  processedAt: z.iso.datetime().optional(),
  /** The correlation id of the scheduler run that asked for it; the checker's message carries it on. */
  traceId: z.string().optional(),
});
export type Episode = z.infer<typeof episodeSchema>;

const podcastMetadata = <Source extends string>(source: Source) =>
  z.object({
    retryCount: z.number().int().nonnegative(),
    source: z.literal(source),
    traceId: z.string().optional(),
  });

/**
 * The publishers' messages, in the structure the migration plan fixed: versioned, with the
 * sender and a retry count in metadata. A consumer accepts exactly the versions listed here.
 */
export const episodeProcessingV1 = z.object({
  version: z.literal('1.0'),
  type: z.literal('episode_processing'),
  data: z.object({
    episodeId: z.string().min(1),
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
    title: z.string().min(1),
    frequency: z.number().int().positive(),
    latestEpisodeDate: z.iso.date(),
  }),
  metadata: podcastMetadata('podcast_scheduler'),
});
export type PodcastGenerationV1 = z.infer<typeof podcastGenerationV1>;
