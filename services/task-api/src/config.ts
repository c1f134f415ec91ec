import * as z from 'zod/mini';
import { env, readConfig } from '@offload/config';

/** Read once per cold start; a missing variable fails here, by name. */
export const config = readConfig({
  TASKS_TABLE_NAME: env.name(),
  TASKS_QUEUE_NAME: env.name(),
  TASKS_DLQ_NAME: env.name(),
  TASKS_MESSAGE_GROUP_ID: z._default(z.string().check(z.minLength(1), z.maxLength(128)), 'tasks'),
  MAX_RECEIVE_COUNT: env.int(3),
});
