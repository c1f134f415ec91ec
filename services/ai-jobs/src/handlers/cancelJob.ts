import { httpApi, json, logger, uuidPathParameter } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { systemClock } from '@offload/config';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { eventsConfig, tables } from '../config';
import { cancelJobFor } from '../domain/manage';

const config = { ...tables(), ...eventsConfig() };
const store = dynamoJobStore(config.JOBS_TABLE_NAME);
const events = eventPublisher(config.EVENTS_TOPIC_ARN);

/**
 * DELETE /jobs/{id}: 200 with the job once it is `cancelled` (it was queued); 202 while its
 * processor stops it between LLM steps; 409 when it has already ended.
 */
export const handler = httpApi(async (event) => {
  const { caller } = event;
  const outcome = await cancelJobFor(store, uuidPathParameter(event), caller, systemClock, events);
  logger.info('Job cancel', { job_id: outcome.job.job_id, state: outcome.state });
  return json(outcome.state === 'cancelled' ? 200 : 202, outcome.job, { 'cache-control': 'no-store' });
});
