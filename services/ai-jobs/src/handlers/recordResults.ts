import { jobResult } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { systemClock } from '@offload/config';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { eventsConfig, recorderConfig, tables } from '../config';
import { recordResult } from '../domain/jobs';

const config = { ...tables(), ...recorderConfig(), ...eventsConfig() };
const store = dynamoJobStore(config.JOBS_TABLE_NAME);
const events = eventPublisher(config.EVENTS_TOPIC_ARN);

/** Response-queue worker: writes each job's final state exactly once. */
export const handler = sqsWorker({
  schema: jobResult,
  dlqName: config.RESPONSE_DLQ_NAME,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  recordHandler: async (message, { log }) => {
    const written = await recordResult(store, message, systemClock, events);
    log.info('Job result recorded', { job_id: message.data.job_id, status: message.data.status, written });
  },
});
