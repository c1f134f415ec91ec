import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

/** One client per cold start; endpoint from AWS_ENDPOINT_URL(_SNS). */
export const sns = new SNSClient({});

/** Publishes one JSON message with string attributes (what subscription filter policies match). */
export async function publishJson(
  topicArn: string,
  message: unknown,
  attributes: Record<string, string> = {},
): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Message: JSON.stringify(message),
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
      ),
    }),
  );
}
