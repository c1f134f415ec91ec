import { createHash } from 'node:crypto';

/**
 * What an `Idempotency-Key` replay is compared by: the same request body always hashes the same,
 * whatever the order of its keys.
 */
export function canonicalBodyHash(body: unknown): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(sorted(body)))
    .digest('hex');
}
