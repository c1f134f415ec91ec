import { sendMessages } from '@offload/aws/sqs';
import type { Publisher } from '../domain/podcasts';

/** Publishes versioned messages in SendMessageBatch calls of 10, reporting what did not go. */
export function sqsPublisher<Message>(queueName: string): Publisher<Message> {
  return {
    async send(messages) {
      const result = await sendMessages(
        queueName,
        messages.map((message) => ({ body: JSON.stringify(message) })),
      );
      return { sent: result.sent, failed: result.failed.length, batches: Math.ceil(messages.length / 10) };
    },
  };
}
