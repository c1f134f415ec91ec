import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditional, dynamo, isConditionFailure, queryAll } from '@offload/aws/dynamodb';
import { jobSchema } from '@offload/messages';
import type { JobStore } from '../domain/jobs';

// Sparse index key: only `queued` and `processing` jobs carry `open_status` (equal to the status),
// so the sweeper's queries read exactly the jobs that could be stuck, ordered by their last write.
const OPEN = 'open_status';

/** DynamoDB-backed JobStore. State only moves forward: every write is conditional on the status. */
export function dynamoJobStore(tableName: string): JobStore {
  const Key = (jobId: string) => ({ job_id: jobId });

  return {
    async create(job) {
      await dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...job, [OPEN]: 'queued' },
          ConditionExpression: 'attribute_not_exists(job_id)',
        }),
      );
    },
    async get(jobId) {
      const out = await dynamo.send(
        new GetCommand({ TableName: tableName, Key: Key(jobId), ConsistentRead: true }),
      );
      return out.Item ? jobSchema.parse(out.Item) : undefined;
    },
    async remove(jobId) {
      await dynamo.send(new DeleteCommand({ TableName: tableName, Key: Key(jobId) }));
    },
    async start(jobId, now) {
      try {
        const out = await dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: Key(jobId),
            UpdateExpression:
              'SET #status = :processing, #open = :processing, updated_at = :now, ' +
              'started_at = if_not_exists(started_at, :now) ADD attempts :one',
            ConditionExpression: 'attribute_exists(job_id) AND #status IN (:queued, :processing)',
            ExpressionAttributeNames: { '#status': 'status', '#open': OPEN },
            ExpressionAttributeValues: {
              ':processing': 'processing',
              ':queued': 'queued',
              ':now': now,
              ':one': 1,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return jobSchema.parse(out.Attributes);
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },
    async progress(jobId, progress, now) {
      await conditional(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: Key(jobId),
            UpdateExpression: 'SET progress = :p, updated_at = :now',
            ConditionExpression: '#status = :processing AND progress < :p',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':processing': 'processing', ':p': progress, ':now': now },
          }),
        ),
      );
    },
    async finish(result, now) {
      const values =
        result.status === 'succeeded'
          ? {
              expression: '#outcome = :outcome, progress = :one',
              field: 'result',
              outcome: result.result ?? null,
            }
          : { expression: '#outcome = :outcome', field: 'error', outcome: result.error };
      return conditional(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: Key(result.job_id),
            UpdateExpression: `SET #status = :status, completed_at = :finished, updated_at = :now, ${values.expression} REMOVE #open`,
            ConditionExpression: 'attribute_exists(job_id) AND #status IN (:queued, :processing)',
            // `result` and `status` are DynamoDB reserved words.
            ExpressionAttributeNames: { '#status': 'status', '#outcome': values.field, '#open': OPEN },
            ExpressionAttributeValues: {
              ':status': result.status,
              ':finished': result.finished_at,
              ':now': now,
              ':outcome': values.outcome,
              ':queued': 'queued',
              ':processing': 'processing',
              ...(result.status === 'succeeded' && { ':one': 1 }),
            },
          }),
        ),
      );
    },
    staleProcessing(updatedBefore) {
      return openJobs('processing', updatedBefore);
    },
    staleQueued(updatedBefore) {
      return openJobs('queued', updatedBefore);
    },
    markRepublished(job, now) {
      return conditional(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: Key(job.job_id),
            UpdateExpression: 'SET updated_at = :now ADD republished :one',
            ConditionExpression: '#status = :queued AND updated_at = :seen',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':queued': 'queued',
              ':now': now,
              ':one': 1,
              ':seen': job.updated_at,
            },
          }),
        ),
      );
    },
    failStale(job, error, now) {
      return conditional(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: Key(job.job_id),
            UpdateExpression:
              'SET #status = :failed, #error = :error, completed_at = :now, updated_at = :now REMOVE #open',
            ConditionExpression: '#status = :seenStatus AND updated_at = :seen',
            ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#open': OPEN },
            ExpressionAttributeValues: {
              ':failed': 'failed',
              ':seenStatus': job.status,
              ':error': error,
              ':now': now,
              ':seen': job.updated_at,
            },
          }),
        ),
      );
    },
  };

  async function openJobs(status: 'queued' | 'processing', updatedBefore: string) {
    const items = await queryAll({
      TableName: tableName,
      IndexName: 'byOpenStatus',
      KeyConditionExpression: '#open = :status AND updated_at < :cutoff',
      ExpressionAttributeNames: { '#open': OPEN },
      ExpressionAttributeValues: { ':status': status, ':cutoff': updatedBefore },
    });
    return items.map((item) => jobSchema.parse(item));
  }
}
