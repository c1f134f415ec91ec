import { httpApi, json, uuidPathParameter } from '@offload/middleware';
import { dynamoTaskStore } from '../adapters/dynamoTaskStore';
import { config } from '../config';
import { getTask } from '../domain/tasks';

const store = dynamoTaskStore(config.TASKS_TABLE_NAME);

/** GET /tasks/{id}: the caller's own task and its status; 404 for any other id. */
export const handler = httpApi(async (event) => {
  const task = await getTask(store, uuidPathParameter(event), event.caller.userId);
  return json(200, task, { 'cache-control': 'no-store' });
});
