import { createHash } from 'node:crypto';
import { UnauthorizedError } from '@offload/errors';

/** Who is calling: every job a service records belongs to one caller, and only they can read it. */
export interface Caller {
  userId: string;
  tier: 'free' | 'paid';
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * Parses `API_KEYS`: comma-separated `sha256(key):user:tier` entries. Only hashes are configured,
 * so the environment never holds a usable key.
 */
export function parseCallers(config: string): Map<string, Caller> {
  const callers = new Map<string, Caller>();
  for (const entry of config
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [hash, userId, tier = 'free'] = entry.split(':');
    if (!hash || !/^[0-9a-f]{64}$/.test(hash) || !userId || (tier !== 'free' && tier !== 'paid')) {
      throw new Error(`API_KEYS entry "${entry.slice(0, 12)}…" is not sha256hex:user:free|paid`);
    }
    callers.set(hash, { userId, tier });
  }
  return callers;
}

/** The caller behind a request's key, from `x-api-key` or a bearer token; 401 otherwise. */
export function identify(callers: Map<string, Caller>, headers: Record<string, string | undefined>): Caller {
  const bearer = headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  const key = headers['x-api-key'] ?? bearer;
  const caller = key ? callers.get(hashKey(key.trim())) : undefined;
  if (!caller) throw new UnauthorizedError();
  return caller;
}
