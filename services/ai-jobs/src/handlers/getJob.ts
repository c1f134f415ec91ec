import { httpApi, json, uuidPathParameter } from '@offload/middleware';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { tables } from '../config';
import { getJobFor } from '../domain/jobs';

const config = tables();
const store = dynamoJobStore(config.JOBS_TABLE_NAME);
const POLL_AFTER_SECONDS = '2';

/** GET /jobs/{id}: the caller's own job and its progress; Retry-After while it is still running. */
export const handler = httpApi(async (event) => {
  const view = await getJobFor(store, uuidPathParameter(event), event.caller);
  const running = view.status === 'queued' || view.status === 'processing';
  return json(200, view, {
    'cache-control': 'no-store',
    ...(running && { 'retry-after': POLL_AFTER_SECONDS }),
  });
});
