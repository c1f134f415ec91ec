import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { queueUrl, sqs } from '@offload/aws/sqs';

/** Polls until `probe` returns something truthy, or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Every message the queue holds: visible, in flight and delayed. */
export async function queueDepth(queueName: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queueUrl(queueName),
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(out.Attributes ?? {}).reduce((sum, value) => sum + Number(value), 0);
}

export interface ReceivedMessage {
  body: string;
  attributes: Record<string, string | undefined>;
}

/**
 * Receives and deletes everything visible in a queue. Reading a FIFO queue without deleting would
 * show the first message of a group forever, so tests that inspect a DLQ drain it.
 */
export async function drainQueue(queueName: string): Promise<ReceivedMessage[]> {
  const url = await queueUrl(queueName);
  const drained: ReceivedMessage[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    if (!out.Messages?.length) return drained;
    for (const message of out.Messages) {
      drained.push({
        body: message.Body ?? '',
        attributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [key, value.StringValue]),
        ),
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}
