import { describeError } from '@offload/errors';

/** A stored record that no longer parses: which table, its key, and why (never its content). */
export interface UnreadableRecord {
  table: string;
  key: Record<string, unknown>;
  reason: string;
}

/**
 * Parses every record of a listing, skipping the ones that fail: each is reported once (to be
 * logged with its key and counted) and the rest are answered, so one bad record never stops a
 * whole run.
 */
export function readRecords<T>(
  raw: readonly Record<string, unknown>[],
  parse: (record: Record<string, unknown>) => T,
  where: { table: string; keyOf(record: Record<string, unknown>): Record<string, unknown> },
  onUnreadable: (record: UnreadableRecord) => void,
): T[] {
  const parsed: T[] = [];
  for (const record of raw) {
    try {
      parsed.push(parse(record));
    } catch (error) {
      onUnreadable({ table: where.table, key: where.keyOf(record), reason: describeError(error) });
    }
  }
  return parsed;
}
