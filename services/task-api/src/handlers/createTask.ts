import { randomUUID } from 'node:crypto';
import { createTaskBodySchema, TASK_BODY_MAX_BYTES } from '@offload/messages';
import { correlationIdOf, httpApi, json, logger } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoTaskStore } from '../adapters/dynamoTaskStore';
import { sqsTaskQueue } from '../adapters/sqsTaskQueue';
import { config } from '../config';
import { submitTask } from '../domain/tasks';

const deps = {
  store: dynamoTaskStore(config.TASKS_TABLE_NAME),
  queue: sqsTaskQueue(config.TASKS_QUEUE_NAME, config.TASKS_MESSAGE_GROUP_ID),
  clock: systemClock,
  newId: randomUUID,
};

/**
 * POST /tasks: the caller's task, validated and sanitized, recorded as queued, enqueue, answer 202 with where to poll. The
 * message's traceId is this request's correlation id, so the processor's lines carry it too.
 */
export const handler = httpApi(
  async (event, context) => {
    const task = await submitTask(deps, event.caller.userId, event.body, correlationIdOf(context));
    logger.info('Task accepted', { task_id: task.task_id });
    return json(202, { task_id: task.task_id, status: task.status }, { location: `/tasks/${task.task_id}` });
  },
  { body: createTaskBodySchema, maxBodyBytes: TASK_BODY_MAX_BYTES },
);
