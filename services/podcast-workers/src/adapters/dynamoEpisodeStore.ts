import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  dynamo,
  getItem,
  ifConditionHolds,
  keyEquals,
  putNew,
  queryAll,
  updateIfConditionHolds,
} from '@offload/aws/dynamodb';
import { episodeSchema } from '@offload/messages';
import type { EpisodeStore } from '../domain/podcasts';
import { parseAll, parseOne } from './records';

export function dynamoEpisodeStore(tableName: string): EpisodeStore {
  return {
    createIfAbsent: (episode) => ifConditionHolds(putNew(tableName, episode, 'episodeId')),
    async get(episodeId) {
      const item = await getItem(tableName, { episodeId });
      return item && parseOne(episodeSchema, item, 'episodeId');
    },
    async listByPodcast(podcastId) {
      const items = await queryAll(keyEquals(tableName, 'byPodcast', 'podcastId', podcastId));
      return items.map((item) => episodeSchema.parse(item));
    },
    async listPending(max) {
      const items = await queryAll(keyEquals(tableName, 'byStatus', 'status', 'pending'), max);
      return parseAll(episodeSchema, items, 'episodeId');
    },
    // The index is sorted by createdAt, so the age of the last write is a filter; only in-flight
    // episodes are `processing`, so the partition it reads stays small.
    async listStaleProcessing(updatedBefore, max) {
      const processing = keyEquals(tableName, 'byStatus', 'status', 'processing');
      const items = await queryAll(
        {
          ...processing,
          FilterExpression: 'updatedAt < :cutoff',
          ExpressionAttributeValues: { ...processing.ExpressionAttributeValues, ':cutoff': updatedBefore },
        },
        max,
      );
      return parseAll(episodeSchema, items, 'episodeId');
    },
    reclaim(episodeId, seenUpdatedAt, now) {
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { episodeId },
            UpdateExpression: 'SET updatedAt = :now',
            ConditionExpression: '#status = :processing AND updatedAt = :seen',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':processing': 'processing', ':seen': seenUpdatedAt, ':now': now },
          }),
        ),
      );
    },
    failStale(episodeId, seenUpdatedAt, error, now) {
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { episodeId },
            UpdateExpression: 'SET #status = :failed, #error = :error, updatedAt = :now',
            ConditionExpression: '#status = :processing AND updatedAt = :seen',
            ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
            ExpressionAttributeValues: {
              ':processing': 'processing',
              ':failed': 'failed',
              ':seen': seenUpdatedAt,
              ':error': error,
              ':now': now,
            },
          }),
        ),
      );
    },
    async start(episodeId, now) {
      const episode = await updateIfConditionHolds({
        TableName: tableName,
        Key: { episodeId },
        UpdateExpression: 'SET #status = :processing, updatedAt = :now ADD attempts :one',
        ConditionExpression: 'attribute_exists(episodeId) AND #status IN (:pending, :processing)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':processing': 'processing',
          ':pending': 'pending',
          ':now': now,
          ':one': 1,
        },
      });
      return episode && episodeSchema.parse(episode);
    },
    finish(episodeId, changes, now) {
      const entries = Object.entries({ ...changes, updatedAt: now });
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { episodeId },
            UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
            ConditionExpression: '#status = :processing',
            ExpressionAttributeNames: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
            ExpressionAttributeValues: {
              ...Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
              ':processing': 'processing',
            },
          }),
        ),
      );
    },
  };
}
