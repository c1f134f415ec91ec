import { createHash } from 'node:crypto';
import { ConfigError, ForbiddenError, UnauthorizedError } from '@offload/errors';
import type { Caller } from '@offload/messages';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

const ENTRY = /^[0-9a-f]{64}$/;

/**
 * Parses the key configuration: comma-separated `sha256(key):user:tier[:operator]` entries. Only
 * hashes are configured, so neither the environment nor the parameter store holds a usable key.
 */
export function parseCallers(config: string): Map<string, Caller> {
  const callers = new Map<string, Caller>();
  for (const entry of config
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [hash, userId, tier = 'free', role, ...rest] = entry.split(':');
    if (
      !hash ||
      !ENTRY.test(hash) ||
      !userId ||
      (tier !== 'free' && tier !== 'paid') ||
      (role !== undefined && role !== 'operator') ||
      rest.length > 0
    ) {
      throw new ConfigError(
        `API key entry "${entry.slice(0, 12)}…" is not sha256hex:user:free|paid[:operator]`,
      );
    }
    callers.set(hash, { userId, tier, ...(role === 'operator' && { operator: true }) });
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

/** 403 unless the caller holds the operator role. */
export function requireOperator(caller: Caller): Caller {
  if (!caller.operator) throw new ForbiddenError('This route needs an operator API key');
  return caller;
}

/** The key table, loaded once per cold start. */
export type CallerSource = () => Promise<Map<string, Caller>>;

/** Reads one decrypted SecureString parameter. */
export type ParameterReader = (name: string) => Promise<string>;

/**
 * Where the key table comes from. Deployed stages name an SSM SecureString in API_KEYS_PARAM: it
 * is read on the first request of a cold start (a failed read is not cached, so the next request
 * tries again) and the table stays out of the function's configuration. The never-deployed local
 * stages pass the development hashes in API_KEYS. Neither set is a configuration error, by name.
 */
export function callersFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  read: ParameterReader = defaultReader,
): CallerSource {
  const parameter = env.API_KEYS_PARAM?.trim();
  if (parameter) {
    let table: Promise<Map<string, Caller>> | undefined;
    return () => {
      if (!table) {
        table = read(parameter).then(parseCallers);
        table.catch(() => (table = undefined));
      }
      return table;
    };
  }
  if (env.API_KEYS === undefined) {
    throw new ConfigError('Set API_KEYS_PARAM (an SSM parameter name) or API_KEYS (hashed key entries)');
  }
  const table = Promise.resolve(parseCallers(env.API_KEYS));
  return () => table;
}

// Loaded on first use only, so functions configured with API_KEYS never construct an SSM client.
const defaultReader: ParameterReader = async (name) =>
  (await import('@offload/aws/ssm')).readSecureParameter(name);
