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
    ...env.openai({ maxRetries: 2, timeoutMs: 60_000 }),
  });
