import type * as z from 'zod/mini';
import { UnreadableRecordError, type Listing, type UnreadableRecord } from '../domain/podcasts';

/** Field paths and problems only: a record's values (titles, scripts) never reach a log line. */
function unreadable(item: Record<string, unknown>, key: string, error: z.core.$ZodError): UnreadableRecord {
  const value = item[key];
  return {
    key: typeof value === 'string' ? value : `(no ${key})`,
    reason: error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; '),
  };
}

export function parseOne<T>(schema: z.ZodMiniType<T>, item: Record<string, unknown>, key: string): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new UnreadableRecordError(unreadable(item, key, parsed.error));
  return parsed.data;
}

/** Parses every item on its own, so one bad record is reported, not thrown for the whole read. */
export function parseAll<T>(
  schema: z.ZodMiniType<T>,
  items: Record<string, unknown>[],
  key: string,
): Listing<T> {
  const listing: Listing<T> = { items: [], unreadable: [] };
  for (const item of items) {
    const parsed = schema.safeParse(item);
    if (parsed.success) listing.items.push(parsed.data);
    else listing.unreadable.push(unreadable(item, key, parsed.error));
  }
  return listing;
}
