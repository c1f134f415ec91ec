import { env, readConfig } from '@offload/config';

/** Read once per cold start; each handler takes the part it needs. A missing variable fails by name. */
export const connectionsConfig = () => readConfig({ CONNECTIONS_TABLE_NAME: env.name() });

export const callerConfig = () => readConfig({ API_KEYS: env.name() });

export const sourceConfig = () =>
  readConfig({ JOBS_TABLE_NAME: env.name(), BATCH_JOBS_TABLE_NAME: env.name() });

export const notifierConfig = () =>
  readConfig({ NOTIFIER_DLQ_NAME: env.name(), MAX_RECEIVE_COUNT: env.int(3) });
