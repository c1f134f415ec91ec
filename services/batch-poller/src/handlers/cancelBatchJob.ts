import { httpApi, json, logger, uuidPathParameter } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { systemClock } from '@offload/config';
import { batchStore, warn } from '../adapters/batchStore';
import { batchProvider } from '../adapters/provider';
import { eventsConfig, tables } from '../config';
import { jobView } from '../domain/batchJobs';
import { cancelBatchJobFor } from '../domain/manage';

const config = { ...tables(), ...eventsConfig() };
const deps = {
  store: batchStore(),
  provider: batchProvider().provider,
  clock: systemClock,
  warn,
  events: eventPublisher(config.EVENTS_TOPIC_ARN),
};

/**
 * DELETE /batch-jobs/{id}: 200 once the job is `cancelled` (no item was left at the provider); 202
 * while the provider cancels its open items and the poller ends the job; 409 when it had ended.
 */
export const handler = httpApi(async (event) => {
  const { caller } = event;
  const { state, job } = await cancelBatchJobFor(deps, uuidPathParameter(event), caller.userId);
  logger.info('Batch job cancel', { job_id: job.job_id, state });
  return json(state === 'cancelled' ? 200 : 202, jobView(job), { 'cache-control': 'no-store' });
});
