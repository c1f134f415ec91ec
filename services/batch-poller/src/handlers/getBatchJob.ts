import { httpApi, json, uuidPathParameter } from '@offload/middleware';
import { batchStore } from '../adapters/batchStore';
import { getJobFor, jobView } from '../domain/batchJobs';

const store = batchStore();
// The poller runs every 30 s; polling this faster only costs reads.
const POLL_AFTER_SECONDS = '30';

/** GET /batch-jobs/{id}: the caller's own job with its aggregates. */
export const handler = httpApi(async (event) => {
  const job = await getJobFor(store, uuidPathParameter(event), event.caller.userId);
  const open = job.status === 'queued' || job.status === 'running';
  return json(200, jobView(job), {
    'cache-control': 'no-store',
    ...(open && { 'retry-after': POLL_AFTER_SECONDS }),
  });
});
