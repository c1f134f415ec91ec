import { BatchWriteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  dynamo,
  getItem,
  ifConditionHolds,
  keyEquals,
  putNew,
  queryAll,
  queryByOwner,
  updateIfConditionHolds,
} from '@offload/aws/dynamodb';
import { batchItemSchema, batchJobSchema, TERMINAL_ITEM_STATUSES, type BatchItem } from '@offload/messages';
import type { BatchStore } from '../domain/batchJobs';
import { readRecords, type UnreadableRecord } from '../domain/records';

// Sparse index keys: `active` is set only while a job is queued or running, and `open_job_id` only
// while an item is not terminal, so "what is left to poll" is a query that shrinks as work ends.
const ACTIVE = 'active';
// Also sparse: `cleanup` is set only while an ended item still has provider files to delete.
const CLEANUP_PENDING = 'pending';
const TERMINAL = Object.fromEntries(TERMINAL_ITEM_STATUSES.map((status, i) => [`:t${i}`, status]));
// attribute_exists first: `NOT ... IN` holds on a missing item, and the update would create it.
const NOT_TERMINAL = `attribute_exists(item_id) AND NOT #status IN (${Object.keys(TERMINAL).join(', ')})`;
const WRITE_CHUNK = 25;

async function writeAll(tableName: string, items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_CHUNK) {
    let requests = items.slice(i, i + WRITE_CHUNK).map((Item) => ({ PutRequest: { Item } }));
    // DynamoDB may hand back part of a batch when throttled; send the rest again, backing off.
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      if (attempt > 8) throw new Error(`${requests.length} items stayed unprocessed by BatchWriteItem`);
      const out = await dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}

const parseItem = (raw: Record<string, unknown>): BatchItem => batchItemSchema.parse(raw);
const parseJob = (raw: Record<string, unknown>) => batchJobSchema.parse(raw);

/**
 * A record that fails its schema in a listing is skipped and handed to `onUnreadable` (its table
 * and key); a single read of one record still throws, as there is nothing else to carry on with.
 */
export function dynamoBatchStore(
  jobsTable: string,
  itemsTable: string,
  onUnreadable: (record: UnreadableRecord) => void,
): BatchStore {
  const jobKey = (record: Record<string, unknown>) => ({ job_id: record.job_id });
  const itemKey = (record: Record<string, unknown>) => ({ job_id: record.job_id, item_id: record.item_id });
  const readJobs = (raw: Record<string, unknown>[]) =>
    readRecords(raw, parseJob, { table: jobsTable, keyOf: jobKey }, onUnreadable);
  const readItems = (raw: Record<string, unknown>[]) =>
    readRecords(raw, parseItem, { table: itemsTable, keyOf: itemKey }, onUnreadable);
  const itemTarget = (item: BatchItem) => ({
    TableName: itemsTable,
    Key: { job_id: item.job_id, item_id: item.item_id },
  });
  const updateJob = (jobId: string, expression: string, values: Record<string, unknown>) =>
    ifConditionHolds(
      dynamo.send(
        new UpdateCommand({
          TableName: jobsTable,
          Key: { job_id: jobId },
          UpdateExpression: expression,
          // Counters move only while the job is open: after resolution the totals are final.
          ConditionExpression: 'attribute_exists(#active)',
          ExpressionAttributeNames: {
            '#active': 'active',
            ...(expression.includes('#status') && { '#status': 'status' }),
          },
          ExpressionAttributeValues: values,
        }),
      ),
    );

  return {
    async createJob(job, items) {
      // Items first: a job whose items failed to write never becomes visible to the poller.
      await writeAll(
        itemsTable,
        items.map((item) => ({ ...item, open_job_id: item.job_id })),
      );
      await putNew(jobsTable, { ...job, active: ACTIVE }, 'job_id');
    },

    async getJob(jobId) {
      const job = await getItem(jobsTable, { job_id: jobId });
      return job && parseJob(job);
    },

    async listItems(jobId, limit, after) {
      const out = await dynamo.send(
        new QueryCommand({
          TableName: itemsTable,
          KeyConditionExpression: 'job_id = :job',
          ExpressionAttributeValues: { ':job': jobId },
          Limit: limit,
          ...(after && { ExclusiveStartKey: { job_id: jobId, item_id: after } }),
        }),
      );
      const next = out.LastEvaluatedKey?.item_id as string | undefined;
      return { items: readItems(out.Items ?? []), ...(next && { next }) };
    },

    async activeJobs() {
      const items = await queryAll(keyEquals(jobsTable, 'byActive', 'active', ACTIVE));
      return readJobs(items);
    },

    async openItems(jobId, limit) {
      const items = await queryAll(
        { ...keyEquals(itemsTable, 'byOpenJob', 'open_job_id', jobId), Limit: limit },
        limit,
      );
      return readItems(items);
    },

    async allItems(jobId) {
      const items = await queryAll({
        ...keyEquals(itemsTable, undefined, 'job_id', jobId),
        ConsistentRead: true,
      });
      return readItems(items);
    },

    async claimItem(item, claim) {
      const claimed = await updateIfConditionHolds({
        ...itemTarget(item),
        UpdateExpression:
          'SET #status = :submitting, claim_token = :token, claimed_at = :now, updated_at = :now, ' +
          'submit_key = if_not_exists(submit_key, :key)',
        ConditionExpression:
          'attribute_not_exists(provider_task_id) AND ' +
          '(#status = :queued OR (#status = :submitting AND claimed_at < :stale))',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':submitting': 'submitting',
          ':queued': 'queued',
          ':token': claim.token,
          ':now': claim.now,
          ':stale': claim.staleBefore,
          ':key': claim.submitKey,
        },
      });
      return claimed && parseItem(claimed);
    },

    markSubmitted(item, token, providerTaskId, now) {
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            ...itemTarget(item),
            UpdateExpression:
              'SET #status = :validating, provider_task_id = :task, updated_at = :now ' +
              'REMOVE claim_token, claimed_at',
            ConditionExpression: '#status = :submitting AND claim_token = :token',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':validating': 'validating',
              ':submitting': 'submitting',
              ':token': token,
              ':task': providerTaskId,
              ':now': now,
            },
          }),
        ),
      );
    },

    async releaseClaim(item, token, renewKey, now) {
      await ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            ...itemTarget(item),
            UpdateExpression:
              'SET #status = :queued, updated_at = :now REMOVE claim_token, claimed_at' +
              (renewKey ? ', submit_key' : ''),
            ConditionExpression: '#status = :submitting AND claim_token = :token',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':queued': 'queued',
              ':submitting': 'submitting',
              ':token': token,
              ':now': now,
            },
          }),
        ),
      );
    },

    async markProgress(item, status, now) {
      await ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: itemsTable,
            Key: { job_id: item.job_id, item_id: item.item_id },
            UpdateExpression: 'SET #status = :status, updated_at = :now ADD polls :one',
            ConditionExpression: NOT_TERMINAL,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ...TERMINAL, ':status': status, ':now': now, ':one': 1 },
          }),
        ),
      );
    },

    finishItem(item, outcome, now) {
      // `result` and `error` are both DynamoDB reserved words, hence the name placeholder.
      const [field, detail] = 'result' in outcome ? ['result', outcome.result] : ['error', outcome.error];
      const cleanup = outcome.files.length > 0;
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            ...itemTarget(item),
            UpdateExpression:
              'SET #status = :status, #detail = :detail, updated_at = :now, completed_at = :now' +
              (cleanup ? ', #cleanup = :pending, cleanup_files = :files' : '') +
              ' ADD polls :one REMOVE open_job_id',
            ConditionExpression: NOT_TERMINAL,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#detail': field,
              ...(cleanup && { '#cleanup': 'cleanup' }),
            },
            ExpressionAttributeValues: {
              ...TERMINAL,
              ':status': outcome.status,
              ':detail': detail,
              ':now': now,
              ':one': 1,
              ...(cleanup && { ':pending': CLEANUP_PENDING, ':files': outcome.files }),
            },
          }),
        ),
      );
    },

    async pendingCleanups(limit) {
      const items = await queryAll(
        { ...keyEquals(itemsTable, 'byCleanup', 'cleanup', CLEANUP_PENDING), Limit: limit },
        limit,
      );
      return readItems(items);
    },

    async clearCleanup(item) {
      // Conditional so that clearing never creates an item (an update on a missing key would).
      await ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            ...itemTarget(item),
            UpdateExpression: 'REMOVE #cleanup, cleanup_files',
            ConditionExpression: 'attribute_exists(item_id)',
            ExpressionAttributeNames: { '#cleanup': 'cleanup' },
          }),
        ),
      );
    },

    async countItems(jobId, counts, now) {
      const finished = (counts.succeeded ?? 0) + (counts.failed ?? 0);
      const added = Object.entries({
        submitted_items: counts.submitted ?? 0,
        processed_items: finished,
        succeeded_items: counts.succeeded ?? 0,
        failed_items: counts.failed ?? 0,
      }).filter(([, n]) => n > 0);
      if (added.length === 0) return;
      const submitted = (counts.submitted ?? 0) > 0;
      await updateJob(
        jobId,
        `SET ${submitted ? '#status = :running, ' : ''}updated_at = :now ` +
          `ADD ${added.map(([counter]) => `${counter} :${counter}`).join(', ')}`,
        {
          ...(submitted && { ':running': 'running' }),
          ':now': now,
          ...Object.fromEntries(added.map(([counter, n]) => [`:${counter}`, n])),
        },
      );
    },

    resolveJob(jobId, status, totals, now) {
      return ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: jobsTable,
            Key: { job_id: jobId },
            UpdateExpression:
              'SET #status = :status, processed_items = :processed, succeeded_items = :succeeded, ' +
              'failed_items = :failed, updated_at = :now, completed_at = :now REMOVE #active',
            ConditionExpression: 'attribute_exists(#active)',
            ExpressionAttributeNames: { '#status': 'status', '#active': 'active' },
            ExpressionAttributeValues: {
              ':status': status,
              ':processed': totals.processed_items,
              ':succeeded': totals.succeeded_items,
              ':failed': totals.failed_items,
              ':now': now,
            },
          }),
        ),
      );
    },

    async listByOwner(owner, page) {
      const { items, next } = await queryByOwner(jobsTable, owner, page);
      return { jobs: items.map((item) => batchJobSchema.parse(item)), ...(next && { next }) };
    },

    async requestCancel(jobId, now) {
      const job = await updateIfConditionHolds({
        TableName: jobsTable,
        Key: { job_id: jobId },
        UpdateExpression: 'SET cancel_requested = :yes, updated_at = :now',
        ConditionExpression: 'attribute_exists(#active)',
        ExpressionAttributeNames: { '#active': 'active' },
        ExpressionAttributeValues: { ':yes': true, ':now': now },
      });
      return job && parseJob(job);
    },
  };
}
