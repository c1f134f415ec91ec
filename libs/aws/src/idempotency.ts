import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, ifConditionHolds } from './dynamodb';

/** What an `Idempotency-Key` stands for: the record it created and the body it was sent with. */
export interface IdempotencyClaim {
  id: string;
  bodyHash: string;
}

const DAY_SECONDS = 24 * 60 * 60;

/**
 * The key's item in a controls table keyed by `pk`. Each part is URI-encoded, so a `#` inside a
 * user id or a key can never make two different (owner, key) pairs share an item.
 */
export const idempotencyItemKey = (scope: string, owner: string, key: string) => ({
  pk: ['idem', scope, owner, key].map(encodeURIComponent).join('#'),
});

export interface ClaimOptions {
  /** The attribute holding the claimed record's id (`record_id`). */
  idAttribute?: string;
  ttlSeconds?: number;
}

/**
 * Records `claim` under `itemKey` (`idempotencyItemKey`, or a service's own older scheme) with a
 * conditional put, or answers the claim already there (read consistently). The item expires
 * through the table's TTL attribute `expires_at`.
 */
export async function claimIdempotencyKey(
  tableName: string,
  itemKey: { pk: string },
  claim: IdempotencyClaim,
  now: Date,
  { idAttribute = 'record_id', ttlSeconds = DAY_SECONDS }: ClaimOptions = {},
): Promise<IdempotencyClaim | undefined> {
  const claimed = await ifConditionHolds(
    dynamo.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...itemKey,
          [idAttribute]: claim.id,
          body_hash: claim.bodyHash,
          expires_at: Math.floor(now.getTime() / 1000) + ttlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
  if (claimed) return undefined;
  const out = await dynamo.send(new GetCommand({ TableName: tableName, Key: itemKey, ConsistentRead: true }));
  return out.Item && { id: String(out.Item[idAttribute]), bodyHash: String(out.Item.body_hash) };
}

/** Lets the key go again: the request that claimed it recorded nothing. */
export async function releaseIdempotencyKey(tableName: string, itemKey: { pk: string }): Promise<void> {
  await dynamo.send(new DeleteCommand({ TableName: tableName, Key: itemKey }));
}
