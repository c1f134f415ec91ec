import * as z from 'zod';
import { env, readConfig } from '@offload/config';

/** Read once per cold start; a missing variable fails here, by name. */
export const config = readConfig({
  TASKS_TABLE_NAME: env.name(),
  TASKS_QUEUE_NAME: env.name(),
  TASKS_DLQ_NAME: env.name(),
  TASKS_MESSAGE_GROUP_ID: z.string().min(1).max(128).default('tasks'),
  MAX_RECEIVE_COUNT: env.int(3),
});
