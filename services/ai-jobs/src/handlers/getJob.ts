import { httpApi, identify, json, parseCallers, uuidPathParameter } from '@offload/middleware';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { callerConfig, tables } from '../config';
import { getJobFor } from '../domain/jobs';

const config = { ...tables(), ...callerConfig() };
const callers = parseCallers(config.API_KEYS);
const store = dynamoJobStore(config.JOBS_TABLE_NAME);
const POLL_AFTER_SECONDS = '2';

/** GET /jobs/{id}: the caller's own job and its progress; Retry-After while it is still running. */
export const handler = httpApi(async (event) => {
  const caller = identify(callers, event.headers);
  const view = await getJobFor(store, uuidPathParameter(event), caller);
  const running = view.status === 'queued' || view.status === 'processing';
  return json(200, view, {
    'cache-control': 'no-store',
    ...(running && { 'retry-after': POLL_AFTER_SECONDS }),
  });
});
