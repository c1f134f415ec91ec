/**
 * List cursors: the position after a page's last item (its sort-key fields), base64url JSON, so a
 * caller treats it as opaque. The owner is never in it: the list routes take the owner from the
 * caller's key, so a cursor cannot reach anyone else's items.
 */
export function encodeCursor(position: Record<string, string>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** The position a cursor holds, or undefined when it is not one this API handed out. */
export function decodeCursor<Field extends string>(
  cursor: string,
  fields: readonly Field[],
): Record<Field, string> | undefined {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    if (Object.keys(record).length !== fields.length) return undefined;
    for (const field of fields) {
      const part = record[field];
      if (typeof part !== 'string' || part.length === 0 || part.length > 200) return undefined;
    }
    return record as Record<Field, string>;
  } catch {
    return undefined;
  }
}
