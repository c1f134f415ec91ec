import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, getItem, ifConditionHolds, putNew, updateIfConditionHolds } from '@offload/aws/dynamodb';
import { taskSchema } from '@offload/messages';
import type { TaskStore } from '../domain/tasks';

/** DynamoDB-backed TaskStore: conditional writes keyed by task_id, consistent reads. */
export function dynamoTaskStore(tableName: string): TaskStore {
  const key = (taskId: string) => ({ task_id: taskId });

  async function finish(taskId: string, values: Record<string, unknown>, now: string): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const vals: Record<string, unknown> = { ':processing': 'processing', ':now': now };
    const sets = ['#status = :status', 'updated_at = :now'];
    for (const [field, value] of Object.entries(values)) {
      names[`#${field}`] = field;
      vals[`:${field}`] = value;
      if (field !== 'status') sets.push(`#${field} = :${field}`);
    }
    return ifConditionHolds(
      dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(taskId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#status = :processing',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: vals,
        }),
      ),
    );
  }

  return {
    create: (task) => putNew(tableName, task, 'task_id'),

    async get(taskId) {
      const item = await getItem(tableName, key(taskId));
      return item && taskSchema.parse(item);
    },

    async remove(taskId) {
      await dynamo.send(new DeleteCommand({ TableName: tableName, Key: key(taskId) }));
    },

    async start(taskId, now) {
      const task = await updateIfConditionHolds({
        TableName: tableName,
        Key: key(taskId),
        UpdateExpression:
          'SET #status = :processing, updated_at = :now, started_at = if_not_exists(started_at, :now) ADD attempts :one',
        ConditionExpression: 'attribute_exists(task_id) AND #status IN (:queued, :processing)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':processing': 'processing',
          ':queued': 'queued',
          ':now': now,
          ':one': 1,
        },
      });
      return task && taskSchema.parse(task);
    },

    complete: (taskId, result, now) =>
      finish(taskId, { status: 'completed', result, completed_at: now }, now),

    fail: (taskId, error, now) => finish(taskId, { status: 'failed', error, failed_at: now }, now),
  };
}
