import { sendMessage } from '@offload/aws/sqs';
import type { TaskQueue } from '../domain/tasks';

/**
 * Sends to the FIFO queue. One message group keeps every task in submission order; the queue's
 * content-based deduplication drops an identical body sent twice within 5 minutes.
 */
export function sqsTaskQueue(queueName: string, groupId: string): TaskQueue {
  return {
    async enqueue(message) {
      await sendMessage(queueName, { body: JSON.stringify(message), groupId });
    },
  };
}
