import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  dynamo,
  getItem,
  ifConditionHolds,
  putNew,
  queryAll,
  queryByOwner,
  updateIfConditionHolds,
} from '@offload/aws/dynamodb';
import { jobSchema, type Job } from '@offload/messages';
import type { JobStore } from '../domain/jobs';

// Sparse index key: only `queued` and `processing` jobs carry `open_status` (equal to the status),
// so the sweeper's queries read exactly the jobs that could be stuck, ordered by their last write.
const OPEN = 'open_status';

/** DynamoDB-backed JobStore. State only moves forward: every write is conditional on the status. */
export function dynamoJobStore(tableName: string): JobStore {
  const Key = (jobId: string) => ({ job_id: jobId });

  return {
    create: (job) => putNew(tableName, { ...job, [OPEN]: 'queued' }, 'job_id'),
    async get(jobId) {
      const item = await getItem(tableName, Key(jobId));
      return item && jobSchema.parse(item);
    },
    async remove(jobId) {
      await dynamo.send(new DeleteCommand({ TableName: tableName, Key: Key(jobId) }));
    },
    start: (jobId, now) =>
      updateReturning(jobId, {
        set:
          '#status = :processing, #open = :processing, updated_at = :now, ' +
          'started_at = if_not_exists(started_at, :now) ADD attempts :one',
        when: 'attribute_exists(job_id) AND #status IN (:queued, :processing)',
        values: { ':processing': 'processing', ':queued': 'queued', ':now': now, ':one': 1 },
      }),
    async progress(jobId, progress, now) {
      await ifConditionHolds(
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
    finish(result, now) {
      const outcome =
        result.status === 'succeeded'
          ? { set: '#outcome = :outcome, progress = :one', name: 'result', value: result.result ?? null }
          : { set: '#outcome = :outcome', name: 'error', value: result.error };
      return updateReturning(
        result.job_id,
        {
          set: `#status = :status, completed_at = :finished, updated_at = :now, ${outcome.set} REMOVE #open`,
          // A job its owner asked to cancel ends `cancelled` instead (finishCancelled).
          when: 'attribute_exists(job_id) AND #status IN (:queued, :processing) AND attribute_not_exists(cancel_requested)',
          values: {
            ':status': result.status,
            ':finished': result.finished_at,
            ':now': now,
            ':outcome': outcome.value,
            ':queued': 'queued',
            ':processing': 'processing',
            ...(result.status === 'succeeded' && { ':one': 1 }),
          },
        },
        // `result` is a DynamoDB reserved word.
        { '#outcome': outcome.name },
      );
    },
    staleProcessing(updatedBefore) {
      return openJobs('processing', updatedBefore);
    },
    staleQueued(updatedBefore) {
      return openJobs('queued', updatedBefore);
    },
    markRepublished(job, now) {
      return ifConditionHolds(
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
      return ifConditionHolds(
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
    async listByOwner(owner, page) {
      const { items, next } = await queryByOwner(tableName, owner, page);
      return { jobs: items.map((item) => jobSchema.parse(item)), ...(next && { next }) };
    },
    cancelQueued: (jobId, now) =>
      updateReturning(jobId, {
        set: '#status = :cancelled, completed_at = :now, updated_at = :now REMOVE #open',
        when: '#status = :queued',
        values: { ':cancelled': 'cancelled', ':queued': 'queued', ':now': now },
      }),
    requestCancel: (jobId, now) =>
      updateReturning(jobId, {
        set: 'cancel_requested = :yes, updated_at = :now',
        when: '#status = :processing',
        values: { ':yes': true, ':processing': 'processing', ':now': now },
      }),
    async cancelRequested(jobId) {
      const out = await dynamo.send(
        new GetCommand({
          TableName: tableName,
          Key: Key(jobId),
          ProjectionExpression: 'cancel_requested',
          ConsistentRead: true,
        }),
      );
      return out.Item?.cancel_requested === true;
    },
    finishCancelled: (jobId, now) =>
      updateReturning(jobId, {
        set: '#status = :cancelled, completed_at = :now, updated_at = :now REMOVE #open',
        when: '#status IN (:queued, :processing) AND cancel_requested = :yes',
        values: {
          ':cancelled': 'cancelled',
          ':queued': 'queued',
          ':processing': 'processing',
          ':yes': true,
          ':now': now,
        },
      }),
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

  /**
   * A conditional update of one job (`SET <set>` when `<when>`) that answers the job as written, or
   * undefined when its condition failed. `#status` and `#open` name the attributes they stand for;
   * `moreNames` adds others. The job comes back with the write (ReturnValues), at no extra read.
   */
  async function updateReturning(
    jobId: string,
    update: { set: string; when: string; values: Record<string, unknown> },
    moreNames: Record<string, string> = {},
  ): Promise<Job | undefined> {
    const expressions = `${update.set} ${update.when}`;
    const names = { '#status': 'status', '#open': OPEN, ...moreNames };
    const job = await updateIfConditionHolds({
      TableName: tableName,
      Key: { job_id: jobId },
      UpdateExpression: `SET ${update.set}`,
      ConditionExpression: update.when,
      // DynamoDB refuses a name placeholder the expressions do not use.
      ExpressionAttributeNames: Object.fromEntries(
        Object.entries(names).filter(([placeholder]) => expressions.includes(placeholder)),
      ),
      ExpressionAttributeValues: update.values,
    });
    return job && jobSchema.parse(job);
  }
}
