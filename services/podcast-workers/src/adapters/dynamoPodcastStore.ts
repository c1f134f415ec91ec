import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, getItem, ifConditionHolds, putNew, queryAll } from '@offload/aws/dynamodb';
import { podcastSchema } from '@offload/messages';
import type { PodcastStore } from '../domain/podcasts';
import { parseAll, parseOne } from './records';

// Every podcast sits in one index partition ordered by its next episode date, so "which are due"
// is a single range query, never a scan. Fine up to thousands of podcasts; shard the key beyond.
const SCHEDULE_PARTITION = 'active';

export function dynamoPodcastStore(tableName: string): PodcastStore {
  return {
    create: (podcast) => putNew(tableName, { ...podcast, schedule: SCHEDULE_PARTITION }, 'podcastId'),
    async get(podcastId) {
      const item = await getItem(tableName, { podcastId });
      return item && parseOne(podcastSchema, item, 'podcastId');
    },
    async listDue(today, max) {
      const items = await queryAll(
        {
          TableName: tableName,
          IndexName: 'byNextEpisode',
          KeyConditionExpression: '#schedule = :active AND nextEpisodeDate <= :today',
          ExpressionAttributeNames: { '#schedule': 'schedule' },
          ExpressionAttributeValues: { ':active': SCHEDULE_PARTITION, ':today': today },
        },
        max,
      );
      return parseAll(podcastSchema, items, 'podcastId');
    },
    advance(podcastId, from, to, nextEpisodeDate, now) {
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { podcastId },
            UpdateExpression: 'SET latestEpisodeDate = :to, nextEpisodeDate = :next, updatedAt = :now',
            ConditionExpression: 'latestEpisodeDate = :from',
            ExpressionAttributeValues: { ':from': from, ':to': to, ':next': nextEpisodeDate, ':now': now },
          }),
        ),
      );
    },
  };
}
