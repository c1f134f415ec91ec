import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '@offload/aws/sns';
import type { JobPublisher } from '../domain/jobs';

/** Publishes to the jobs topic; the `priority` attribute is what the subscriptions filter on. */
export function snsJobPublisher(topicArn: string): JobPublisher {
  return {
    async publish(message) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify(message),
          MessageAttributes: { priority: { DataType: 'String', StringValue: message.data.priority } },
        }),
      );
    },
  };
}
