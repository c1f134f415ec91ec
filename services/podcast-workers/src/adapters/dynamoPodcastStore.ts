import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditional, dynamo, isConditionFailure, queryAll } from '@offload/aws/dynamodb';
import { episodeSchema, podcastSchema } from '@offload/messages';
import type * as z from 'zod';
import {
  UnreadableRecordError,
  type EpisodeStore,
  type Listing,
  type PodcastStore,
  type UnreadableRecord,
} from '../domain/podcasts';

/** Field paths and problems only: a record's values (titles, scripts) never reach a log line. */
function unreadable(item: Record<string, unknown>, key: string, error: z.ZodError): UnreadableRecord {
  const value = item[key];
  return {
    key: typeof value === 'string' ? value : `(no ${key})`,
    reason: error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; '),
  };
}

function parseOne<T>(schema: z.ZodType<T>, item: Record<string, unknown>, key: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new UnreadableRecordError(unreadable(item, key, parsed.error));
  return parsed.data;
}

/** Parses every item on its own, so one bad record is reported, not thrown for the whole read. */
function parseAll<T>(schema: z.ZodType<T>, items: Record<string, unknown>[], key: string): Listing<T> {
  const listing: Listing<T> = { items: [], unreadable: [] };
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (parsed.success) listing.items.push(parsed.data);
    else listing.unreadable.push(unreadable(item, key, parsed.error));
  }
  return listing;
}

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
      return out.Item ? parseOne(podcastSchema, out.Item, 'podcastId') : undefined;
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
      return out.Item ? parseOne(episodeSchema, out.Item, 'episodeId') : undefined;
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
    async listPending(max) {
      const items = await queryAll(
        {
          TableName: tableName,
          IndexName: 'byStatus',
          KeyConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending' },
        },
        max,
      );
      return parseAll(episodeSchema, items, 'episodeId');
    },
    // The index is sorted by createdAt, so the age of the last write is a filter; only in-flight
    // episodes are `processing`, so the partition it reads stays small.
    async listStaleProcessing(updatedBefore, max) {
      const items = await queryAll(
        {
          TableName: tableName,
          IndexName: 'byStatus',
          KeyConditionExpression: '#status = :processing',
          FilterExpression: 'updatedAt < :cutoff',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':processing': 'processing', ':cutoff': updatedBefore },
        },
        max,
      );
      return parseAll(episodeSchema, items, 'episodeId');
    },
    reclaim(episodeId, seenUpdatedAt, now) {
      return conditional(
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
      return conditional(
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
