import { taskSubmitted } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoTaskStore } from '../adapters/dynamoTaskStore';
import { config } from '../config';
import { processTask } from '../domain/tasks';
import { triageWork } from '../domain/work';

const deps = {
  store: dynamoTaskStore(config.TASKS_TABLE_NAME),
  work: triageWork(() => new Date()),
  clock: systemClock,
};

/** FIFO worker: tasks in submission order, each processed once however often it is delivered. */
export const handler = sqsWorker({
  schema: taskSubmitted,
  fifo: true,
  dlqName: config.TASKS_DLQ_NAME,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  recordHandler: async (message, { receiveCount, isLastAttempt, log }) => {
    const outcome = await processTask(deps, message.data.task_id, { isLastAttempt });
    log.info('Task processed', { task_id: message.data.task_id, outcome, receive_count: receiveCount });
  },
});
