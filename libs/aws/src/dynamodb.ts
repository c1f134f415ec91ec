import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

/** One document client per cold start; endpoint from AWS_ENDPOINT_URL(_DYNAMODB). */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

/** A conditional write lost: the state it guarded had already moved on. */
export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/**
 * The one way every store runs a conditional write: true if it applied, false if its condition no
 * longer held (the state it guarded had already moved on). Any other error is thrown.
 */
export async function ifConditionHolds(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The same, for an update that answers the item as written (undefined when its condition failed). */
export async function updateIfConditionHolds(
  input: UpdateCommandInput,
): Promise<Record<string, unknown> | undefined> {
  let item: Record<string, unknown> | undefined;
  const write = dynamo.send(new UpdateCommand({ ...input, ReturnValues: 'ALL_NEW' }));
  const applied = await ifConditionHolds(write.then((out) => (item = out.Attributes)));
  return applied ? item : undefined;
}

/** Writes a new item; one already under its key (`keyAttribute`) refuses it with a condition failure. */
export async function putNew(
  tableName: string,
  item: Record<string, unknown>,
  keyAttribute: string,
): Promise<void> {
  await dynamo.send(
    new PutCommand({
      TableName: tableName,
      Item: item,
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': keyAttribute },
    }),
  );
}

/** The item under `key`, read consistently (a write just made is always seen). */
export async function getItem(
  tableName: string,
  key: Record<string, unknown>,
): Promise<Record<string, unknown> | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return out.Item;
}

/**
 * The query for the items whose partition key `attribute` equals `value`: of the table, or of the
 * index `indexName`. Spread it and add what else the query needs (a filter, a limit).
 */
export function keyEquals(
  tableName: string,
  indexName: string | undefined,
  attribute: string,
  value: unknown,
): QueryCommandInput & { ExpressionAttributeValues: Record<string, unknown> } {
  return {
    TableName: tableName,
    ...(indexName && { IndexName: indexName }),
    KeyConditionExpression: '#key = :key',
    ExpressionAttributeNames: { '#key': attribute },
    ExpressionAttributeValues: { ':key': value },
  };
}

/** Every item a query matches (following LastEvaluatedKey), or the first `max` of them. */
export async function queryAll(
  input: QueryCommandInput,
  max = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await dynamo.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...(out.Items ?? []));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey && items.length < max);
  return items.slice(0, max);
}

/**
 * A fixed-window rate limit counted in a table keyed by `pk` (expiring through its TTL attribute
 * `expires_at`): takes one request of `limit` for `subject` in the current window, or answers how
 * many seconds remain until the next window.
 */
export async function takeRateToken(
  tableName: string,
  subject: string,
  limit: number,
  now: Date,
  windowSeconds = 60,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const seconds = Math.floor(now.getTime() / 1000);
  const windowStart = seconds - (seconds % windowSeconds);
  const taken = await ifConditionHolds(
    dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `rate#${subject}#${windowStart}` },
        UpdateExpression: 'ADD requests :one SET expires_at = :expires',
        ConditionExpression: 'attribute_not_exists(requests) OR requests < :limit',
        ExpressionAttributeValues: {
          ':one': 1,
          ':limit': limit,
          ':expires': windowStart + 2 * windowSeconds,
        },
      }),
    ),
  );
  return taken
    ? { allowed: true }
    : { allowed: false, retryAfterSeconds: windowStart + windowSeconds - seconds };
}

/** Where a newest-first page ends: the sort-key fields of its last item (a list cursor's content). */
export type PagePosition = Record<string, string>;

/**
 * One page of a query that may carry a filter: reads up to `maxReads` pages of the key range
 * (DynamoDB applies `Limit` before the filter), keeps `limit` items, and answers where the next
 * page starts, built by `positionOf` from the last item kept (or from where reading stopped).
 * `startKey` turns a position back into an ExclusiveStartKey.
 */
export async function queryPage(
  input: QueryCommandInput,
  options: {
    limit: number;
    after?: Record<string, unknown>;
    positionOf: (item: Record<string, unknown>) => PagePosition;
    maxReads?: number;
  },
): Promise<{ items: Record<string, unknown>[]; next?: PagePosition }> {
  const items: Record<string, unknown>[] = [];
  let start = options.after;
  for (let read = 0; read < (options.maxReads ?? 5); read++) {
    const out = await dynamo.send(
      new QueryCommand({ ...input, Limit: options.limit, ...(start && { ExclusiveStartKey: start }) }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
    if (items.length >= options.limit || !start) break;
  }
  const kept = items.slice(0, options.limit);
  const last = items.length > options.limit || start ? kept.at(-1) : undefined;
  const next = last ? options.positionOf(last) : start ? options.positionOf(start) : undefined;
  return { items: kept, ...(next && { next }) };
}

/** Where a page of an owner's records ends: the `byOwner` sort key of its last record. */
export interface OwnerPosition {
  created_at: string;
  job_id: string;
}

/**
 * One page of an owner's records through the table's `byOwner` index (owner + created_at), newest
 * first, optionally only those in one status. Jobs and batch jobs share this index shape.
 */
export async function queryByOwner(
  tableName: string,
  owner: string,
  page: { limit: number; status?: string; after?: OwnerPosition },
): Promise<{ items: Record<string, unknown>[]; next?: OwnerPosition }> {
  const { items, next } = await queryPage(
    {
      TableName: tableName,
      IndexName: 'byOwner',
      KeyConditionExpression: '#owner = :owner',
      ScanIndexForward: false,
      ExpressionAttributeNames: { '#owner': 'owner', ...(page.status && { '#status': 'status' }) },
      ExpressionAttributeValues: { ':owner': owner, ...(page.status && { ':status': page.status }) },
      ...(page.status && { FilterExpression: '#status = :status' }),
    },
    {
      limit: page.limit,
      ...(page.after && { after: { ...page.after, owner } }),
      positionOf: (item) => ({ created_at: String(item.created_at), job_id: String(item.job_id) }),
    },
  );
  return { items, ...(next && { next: { created_at: next.created_at!, job_id: next.job_id! } }) };
}
