import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, isConditionFailure, takeRateToken } from '@offload/aws/dynamodb';
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
    takeRateToken(owner, limit, now) {
      return takeRateToken(tableName, owner, limit, now);
    },
  };
}
