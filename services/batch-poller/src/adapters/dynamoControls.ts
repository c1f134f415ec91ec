import type { Clock } from '@offload/config';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, ifConditionHolds, takeRateToken } from '@offload/aws/dynamodb';
import { claimIdempotencyKey, idempotencyItemKey, releaseIdempotencyKey } from '@offload/aws/idempotency';
import type { BudgetLedger, BudgetWindow } from '../domain/budget';
import type { BatchControls } from '../domain/submit';

// Keys of this service never meet ai-jobs' (another table), but the scope keeps them apart anyway.
const IDEMPOTENCY_SCOPE = 'batch-jobs';
const DAY_SECONDS = 24 * 60 * 60;

/** Idempotency keys and the per-minute rate limit, in the controls table (TTL `expires_at`). */
export function dynamoControls(tableName: string, clock: Clock): BatchControls {
  return {
    async claimIdempotencyKey(owner, key, claim) {
      const existing = await claimIdempotencyKey(
        tableName,
        idempotencyItemKey(IDEMPOTENCY_SCOPE, owner, key),
        { id: claim.jobId, bodyHash: claim.bodyHash },
        clock.now(),
      );
      return existing && { jobId: existing.id, bodyHash: existing.bodyHash };
    },
    releaseIdempotencyKey: (owner, key) =>
      releaseIdempotencyKey(tableName, idempotencyItemKey(IDEMPOTENCY_SCOPE, owner, key)),
    takeRateToken: (owner, limit, now) =>
      takeRateToken(tableName, `batch-jobs#${encodeURIComponent(owner)}`, limit, now),
  };
}

/**
 * Item budgets in the controls table: one record per caller and UTC day holding the day's total
 * and one counter per hour, so a single conditional update charges both windows at once (the
 * local DynamoDB emulator has no transactions, and one write needs none).
 */
export function dynamoBudgetLedger(tableName: string): BudgetLedger {
  const target = (owner: string, window: BudgetWindow) => ({
    TableName: tableName,
    Key: { pk: ['budget', owner, window.day].map(encodeURIComponent).join('#') },
  });
  const hourField = (window: BudgetWindow) => `hour_${String(window.hour).padStart(2, '0')}`;

  return {
    async charge(owner, window, items, limits) {
      const dayEnd = Date.parse(`${window.day}T00:00:00Z`) / 1000 + DAY_SECONDS;
      // On an empty window the conditions hold whatever the count, so a charge larger than a limit
      // is refused here, before the write.
      const fits = items <= limits.itemsPerDay && items <= limits.itemsPerHour;
      const charged =
        fits &&
        (await ifConditionHolds(
          dynamo.send(
            new UpdateCommand({
              ...target(owner, window),
              UpdateExpression: 'ADD day_items :n, #hour :n SET expires_at = :expires',
              ConditionExpression:
                '(attribute_not_exists(day_items) OR day_items <= :dayLeft) AND ' +
                '(attribute_not_exists(#hour) OR #hour <= :hourLeft)',
              ExpressionAttributeNames: { '#hour': hourField(window) },
              ExpressionAttributeValues: {
                ':n': items,
                ':dayLeft': limits.itemsPerDay - items,
                ':hourLeft': limits.itemsPerHour - items,
                ':expires': dayEnd + DAY_SECONDS,
              },
            }),
          ),
        ));
      if (charged) return { charged: true };
      const out = await dynamo.send(new GetCommand({ ...target(owner, window), ConsistentRead: true }));
      return {
        charged: false,
        used: {
          day: Number(out.Item?.day_items ?? 0),
          hour: Number(out.Item?.[hourField(window)] ?? 0),
        },
      };
    },

    async refund(owner, window, items) {
      await ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            ...target(owner, window),
            UpdateExpression: 'ADD day_items :n, #hour :n',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#hour': hourField(window) },
            ExpressionAttributeValues: { ':n': -items },
          }),
        ),
      );
    },
  };
}
