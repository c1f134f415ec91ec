import * as z from 'zod';
import { ValidationError } from '@offload/errors';
import { httpApi, json } from '@offload/middleware';
import { dynamoTaskStore } from '../adapters/dynamoTaskStore';
import { config } from '../config';
import { getTask } from '../domain/tasks';

const store = dynamoTaskStore(config.TASKS_TABLE_NAME);
const taskId = z.uuid();

/** GET /tasks/{id}: the task and its status; 404 for an id that was never accepted. */
export const handler = httpApi(async (event) => {
  const id = taskId.safeParse(event.pathParameters?.id);
  if (!id.success) throw new ValidationError([{ field: 'id', message: 'must be a UUID' }]);
  const task = await getTask(store, id.data);
  return json(200, task, { 'cache-control': 'no-store' });
});
