import { httpApi, json, uuidPathParameter } from '@offload/middleware';
import { dynamoTaskStore } from '../adapters/dynamoTaskStore';
import { config } from '../config';
import { getTask } from '../domain/tasks';

const store = dynamoTaskStore(config.TASKS_TABLE_NAME);
// As for jobs: a client polling an open task waits this long between reads.
const POLL_AFTER_SECONDS = '2';

/** GET /tasks/{id}: the task and its status (Retry-After while open); 404 for an id never accepted. */
export const handler = httpApi(async (event) => {
  const task = await getTask(store, uuidPathParameter(event));
  const open = task.status === 'queued' || task.status === 'processing';
  return json(200, task, {
    'cache-control': 'no-store',
    ...(open && { 'retry-after': POLL_AFTER_SECONDS }),
  });
});
