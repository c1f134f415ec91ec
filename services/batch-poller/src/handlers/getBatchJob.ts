import { httpApi, identify, json, parseCallers, uuidPathParameter } from '@offload/middleware';
import { dynamoBatchStore } from '../adapters/dynamoBatchStore';
import { unreadableReporter } from '../adapters/unreadable';
import { callerConfig, tables } from '../config';
import { getJobFor, jobView } from '../domain/batchJobs';

const config = { ...tables(), ...callerConfig() };
const callers = parseCallers(config.API_KEYS);
const store = dynamoBatchStore(
  config.BATCH_JOBS_TABLE_NAME,
  config.BATCH_ITEMS_TABLE_NAME,
  unreadableReporter().report,
);
// The poller runs every 30 s; polling this faster only costs reads.
const POLL_AFTER_SECONDS = '30';

/** GET /batch-jobs/{id}: the caller's own job with its aggregates. */
export const handler = httpApi(async (event) => {
  const caller = identify(callers, event.headers);
  const job = await getJobFor(store, uuidPathParameter(event), caller.userId);
  const open = job.status === 'queued' || job.status === 'running';
  return json(200, jobView(job), {
    'cache-control': 'no-store',
    ...(open && { 'retry-after': POLL_AFTER_SECONDS }),
  });
});
