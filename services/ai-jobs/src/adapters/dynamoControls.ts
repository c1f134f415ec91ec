import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, isConditionFailure } from '@offload/aws/dynamodb';
import type { Controls } from '../domain/jobs';

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/**
 * Idempotency keys and rate-limit windows in one small table keyed by `pk`; both expire through
 * the table's TTL attribute `expires_at` (on AWS; the local emulator keeps them).
 */
export function dynamoControls(tableName: string): Controls {
  const idemKey = (owner: string, key: string) => ({ pk: `idem#${owner}#${key}` });
  return {
    async claimIdempotencyKey(owner, key, claim) {
      try {
        await dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...idemKey(owner, key),
              job_id: claim.jobId,
              body_hash: claim.bodyHash,
              expires_at: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_SECONDS,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return undefined;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const out = await dynamo.send(
        new GetCommand({ TableName: tableName, Key: idemKey(owner, key), ConsistentRead: true }),
      );
      return out.Item && { jobId: String(out.Item.job_id), bodyHash: String(out.Item.body_hash) };
    },
    async releaseIdempotencyKey(owner, key) {
      await dynamo.send(new DeleteCommand({ TableName: tableName, Key: idemKey(owner, key) }));
    },
    async takeRateToken(owner, windowStart, limit) {
      try {
        await dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: `rate#${owner}#${windowStart}` },
            UpdateExpression: 'ADD requests :one SET expires_at = :expires',
            ConditionExpression: 'attribute_not_exists(requests) OR requests < :limit',
            ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expires': windowStart + 120 },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
  };
}
