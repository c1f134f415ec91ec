import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditional, dynamo, isConditionFailure, queryAll } from '@offload/aws/dynamodb';
import { episodeSchema, podcastSchema } from '@offload/messages';
import type { EpisodeStore, PodcastStore } from '../domain/podcasts';

// Every podcast sits in one index partition ordered by its next episode date, so "which are due"
// is a single range query, never a scan. Fine up to thousands of podcasts; shard the key beyond.
const SCHEDULE_PARTITION = 'active';

export function dynamoPodcastStore(tableName: string): PodcastStore {
  return {
    async create(podcast) {
      await dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...podcast, schedule: SCHEDULE_PARTITION },
          ConditionExpression: 'attribute_not_exists(podcastId)',
        }),
      );
    },
    async get(podcastId) {
      const out = await dynamo.send(
        new GetCommand({ TableName: tableName, Key: { podcastId }, ConsistentRead: true }),
      );
      return out.Item ? podcastSchema.parse(out.Item) : undefined;
    },
    async listDue(today) {
      const items = await queryAll({
        TableName: tableName,
        IndexName: 'byNextEpisode',
        KeyConditionExpression: '#schedule = :active AND nextEpisodeDate <= :today',
        ExpressionAttributeNames: { '#schedule': 'schedule' },
        ExpressionAttributeValues: { ':active': SCHEDULE_PARTITION, ':today': today },
      });
      return items.map((item) => podcastSchema.parse(item));
    },
    advance(podcastId, from, to, nextEpisodeDate, now) {
      return conditional(
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

export function dynamoEpisodeStore(tableName: string): EpisodeStore {
  return {
    createIfAbsent(episode) {
      return conditional(
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: episode,
            ConditionExpression: 'attribute_not_exists(episodeId)',
          }),
        ),
      );
    },
    async get(episodeId) {
      const out = await dynamo.send(
        new GetCommand({ TableName: tableName, Key: { episodeId }, ConsistentRead: true }),
      );
      return out.Item ? episodeSchema.parse(out.Item) : undefined;
    },
    async listByPodcast(podcastId) {
      const items = await queryAll({
        TableName: tableName,
        IndexName: 'byPodcast',
        KeyConditionExpression: 'podcastId = :id',
        ExpressionAttributeValues: { ':id': podcastId },
      });
      return items.map((item) => episodeSchema.parse(item));
    },
    async listPending() {
      const items = await queryAll({
        TableName: tableName,
        IndexName: 'byStatus',
        KeyConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending' },
      });
      return items.map((item) => episodeSchema.parse(item));
    },
    async start(episodeId, now) {
      try {
        const out = await dynamo.send(
          new UpdateCommand({
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
            ReturnValues: 'ALL_NEW',
          }),
        );
        return episodeSchema.parse(out.Attributes);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
    finish(episodeId, changes, now) {
      const entries = Object.entries({ ...changes, updatedAt: now });
      return conditional(
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
