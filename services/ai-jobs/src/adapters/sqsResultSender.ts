import { sendMessage } from '@offload/aws/sqs';
import type { ResultSender } from '../domain/jobs';

export function sqsResultSender(queueName: string): ResultSender {
  return {
    async send(message) {
      await sendMessage(queueName, { body: JSON.stringify(message) });
    },
  };
}
