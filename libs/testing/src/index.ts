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

/** The OpenAI stand-in's control API (faults, latency, batch outcomes), beside its /v1 routes. */
export async function stubControl<T = unknown>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const base = process.env.OPENAI_BASE_URL;
  if (!base) throw new Error('OPENAI_BASE_URL is not set: the integration globalSetup did not run');
  const res = await fetch(new URL(path, base), {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`stand-in ${method} ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Invokes a function through serverless-offline's Lambda Invoke API, as `aws lambda invoke` would. */
export async function invokeFunction<T = unknown>(
  lambdaUrl: string,
  functionName: string,
  payload: unknown = {},
): Promise<T> {
  const res = await fetch(`${lambdaUrl}/2015-03-31/functions/${functionName}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  const body = JSON.parse(text) as T & { errorType?: string; errorMessage?: string };
  // A function error comes back as 200 with an error document, as from the real Invoke API.
  if (!res.ok || res.headers.get('x-amz-function-error') || body.errorType || body.errorMessage) {
    throw new Error(`Invoking ${functionName} failed (${res.status}): ${text.slice(0, 500)}`);
  }
  return body;
}
