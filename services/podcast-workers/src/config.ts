import * as z from 'zod/mini';
import { env, readConfig } from '@offload/config';

/** Read once per cold start; each handler takes the part it needs. */
export const tables = () => readConfig({ PODCASTS_TABLE_NAME: env.name(), EPISODES_TABLE_NAME: env.name() });

export const queues = () => readConfig({ GENERATION_QUEUE_NAME: env.name(), EPISODE_QUEUE_NAME: env.name() });

/** The episode checker's hold on episodes left `processing` (see checkEpisodes). */
export const checkerConfig = () =>
  readConfig({ STALE_PROCESSING_SECONDS: env.int(1800), MAX_RECEIVE_COUNT: env.int(5) });

export const workerConfig = () =>
  readConfig({
    DLQ_NAME: env.name(),
    MAX_RECEIVE_COUNT: env.int(5),
    OPENAI_MODEL: z._default(z.string().check(z.minLength(1)), 'gpt-4o-mini'),
    OPENAI_MAX_RETRIES: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(10)), 2),
    OPENAI_TIMEOUT_MS: env.int(60_000),
  });
