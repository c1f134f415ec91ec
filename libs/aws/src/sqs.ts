import {
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';

/**
 * One client per cold start. The endpoint comes from the SDK's standard AWS_ENDPOINT_URL(_SQS);
 * queue URLs are never used as endpoints because local emulators hand out unresolvable hosts.
 */
export const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });

const queueUrls = new Map<string, Promise<string>>();

/** Resolves a queue name to its URL once per cold start (names are what configuration carries). */
export function queueUrl(queueName: string): Promise<string> {
  let url = queueUrls.get(queueName);
  if (!url) {
    url = sqs.send(new GetQueueUrlCommand({ QueueName: queueName })).then((out) => {
      if (!out.QueueUrl) throw new Error(`Queue ${queueName} has no URL`);
      return out.QueueUrl;
    });
    // A failed lookup must not be cached, or one network blip would poison the warm container.
    url.catch(() => queueUrls.delete(queueName));
    queueUrls.set(queueName, url);
  }
  return url;
}

export interface OutgoingMessage {
  body: string;
  /** FIFO only. */
  groupId?: string;
  /** FIFO only; omit to rely on content-based deduplication. */
  deduplicationId?: string;
  attributes?: Record<string, string>;
}

function toAttributes(
  attributes?: Record<string, string>,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
  );
}

export async function sendMessage(queueName: string, message: OutgoingMessage): Promise<string> {
  const out = await sqs.send(
    new SendMessageCommand({
      QueueUrl: await queueUrl(queueName),
      MessageBody: message.body,
      MessageGroupId: message.groupId,
      MessageDeduplicationId: message.deduplicationId,
      MessageAttributes: toAttributes(message.attributes),
    }),
  );
  return out.MessageId ?? '';
}

export interface BatchSendResult {
  sent: number;
  failed: { index: number; reason: string }[];
}

/** Sends in SendMessageBatch calls of 10 (the SQS maximum) and reports per-entry failures. */
export async function sendMessages(queueName: string, messages: OutgoingMessage[]): Promise<BatchSendResult> {
  const url = await queueUrl(queueName);
  const result: BatchSendResult = { sent: 0, failed: [] };
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((message, offset) => ({
          Id: String(start + offset),
          MessageBody: message.body,
          MessageGroupId: message.groupId,
          MessageDeduplicationId: message.deduplicationId,
          MessageAttributes: toAttributes(message.attributes),
        })),
      }),
    );
    result.sent += out.Successful?.length ?? 0;
    for (const failure of out.Failed ?? []) {
      result.failed.push({ index: Number(failure.Id), reason: `${failure.Code}: ${failure.Message}` });
    }
  }
  return result;
}
