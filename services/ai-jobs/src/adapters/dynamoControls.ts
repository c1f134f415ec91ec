import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, ifConditionHolds, takeRateToken } from '@offload/aws/dynamodb';
import { claimIdempotencyKey, releaseIdempotencyKey } from '@offload/aws/idempotency';
import type { Clock } from '@offload/config';
import type { Controls } from '../domain/jobs';

const BUDGET_WINDOW_SECONDS = 60 * 60;

/**
 * Each part of a key is percent-encoded, so `#` (the separator) never appears inside a part and no
 * two owner/key pairs can make the same `pk` (`a#b` + `c` and `a` + `b#c` once collided).
 */
const part = (value: string) => encodeURIComponent(value);

/**
 * The `pk` of an idempotency claim. Older than the shared `idempotencyItemKey` (which adds a
 * scope) and kept, with its `job_id` attribute, so that claims made before a deploy still answer
 * their retries for their 24 hours.
 */
export const idempotencyPk = (owner: string, key: string) => `idem#${part(owner)}#${part(key)}`;

/**
 * Idempotency keys, rate-limit windows and LLM budgets in one small table keyed by `pk`; all expire
 * through the table's TTL attribute `expires_at` (on AWS; the local emulator keeps them).
 */
export function dynamoControls(tableName: string, clock: Clock): Controls {
  const idemKey = (owner: string, key: string) => ({ pk: idempotencyPk(owner, key) });
  const budgetWindow = (now: Date) => {
    const seconds = Math.floor(now.getTime() / 1000);
    const start = seconds - (seconds % BUDGET_WINDOW_SECONDS);
    return { start, retryAfterSeconds: start + BUDGET_WINDOW_SECONDS - seconds };
  };
  const budgetKey = (owner: string, start: number) => ({ pk: `llm#${part(owner)}#${start}` });
  return {
    async claimIdempotencyKey(owner, key, claim) {
      const existing = await claimIdempotencyKey(
        tableName,
        idemKey(owner, key),
        { id: claim.jobId, bodyHash: claim.bodyHash },
        clock.now(),
        { idAttribute: 'job_id' },
      );
      return existing && { jobId: existing.id, bodyHash: existing.bodyHash };
    },
    releaseIdempotencyKey: (owner, key) => releaseIdempotencyKey(tableName, idemKey(owner, key)),
    takeRateToken(owner, limit, now) {
      return takeRateToken(tableName, part(owner), limit, now);
    },
    async chargeLlmCalls(owner, calls, limit, now) {
      const window = budgetWindow(now);
      // One conditional ADD: concurrent submits can never together spend past the limit.
      const charged =
        calls <= limit &&
        (await ifConditionHolds(
          dynamo.send(
            new UpdateCommand({
              TableName: tableName,
              Key: budgetKey(owner, window.start),
              UpdateExpression: 'ADD llm_calls :calls SET expires_at = :expires',
              ConditionExpression: 'attribute_not_exists(llm_calls) OR llm_calls <= :room',
              ExpressionAttributeValues: {
                ':calls': calls,
                ':room': limit - calls,
                ':expires': window.start + 2 * BUDGET_WINDOW_SECONDS,
              },
            }),
          ),
        ));
      return charged ? { allowed: true } : { allowed: false, retryAfterSeconds: window.retryAfterSeconds };
    },
    async refundLlmCalls(owner, calls, now) {
      // An hour with nothing charged (it ended between the charge and the refund) has nothing to
      // give back; the condition keeps the refund from opening it with a negative count.
      await ifConditionHolds(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: budgetKey(owner, budgetWindow(now).start),
            UpdateExpression: 'ADD llm_calls :refund',
            ConditionExpression: 'attribute_exists(llm_calls)',
            ExpressionAttributeValues: { ':refund': -calls },
          }),
        ),
      );
    },
  };
}
