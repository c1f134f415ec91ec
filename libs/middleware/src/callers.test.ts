import { ConfigError, ForbiddenError, UnauthorizedError } from '@offload/errors';
import { callersFromEnvironment, hashKey, identify, parseCallers, requireOperator } from './callers';

const config = `${hashKey('key-a')}:alice:free, ${hashKey('key-b')}:bob:paid`;

describe('callers', () => {
  const callers = parseCallers(config);

  it('maps an x-api-key or a bearer token to its user', () => {
    expect(identify(callers, { 'x-api-key': 'key-a' })).toEqual({ userId: 'alice', tier: 'free' });
    expect(identify(callers, { authorization: 'Bearer key-b' })).toEqual({ userId: 'bob', tier: 'paid' });
  });

  it('refuses a missing or unknown key with 401', () => {
    expect(() => identify(callers, {})).toThrow(UnauthorizedError);
    expect(() => identify(callers, { 'x-api-key': 'key-c' })).toThrow(UnauthorizedError);
  });

  it('rejects configuration that is not sha256:user:tier', () => {
    expect(() => parseCallers('plain-key:alice:free')).toThrow(/sha256hex:user/);
    expect(() => parseCallers(`${hashKey('k')}:alice:gold`)).toThrow(ConfigError);
    expect(() => parseCallers(`${hashKey('k')}:alice:free:admin`)).toThrow(/sha256hex:user/);
    expect(() => parseCallers(`${hashKey('k')}:alice:free:operator:x`)).toThrow(/sha256hex:user/);
  });

  it('gives the operator role only to entries that name it', () => {
    const table = parseCallers(`${hashKey('ops')}:olga:paid:operator,${hashKey('key-a')}:alice:free`);
    const olga = identify(table, { 'x-api-key': 'ops' });
    expect(olga).toEqual({ userId: 'olga', tier: 'paid', operator: true });
    expect(requireOperator(olga)).toBe(olga);
    expect(() => requireOperator(identify(table, { 'x-api-key': 'key-a' }))).toThrow(ForbiddenError);
  });
});

describe('callersFromEnvironment', () => {
  const entries = `${hashKey('key-a')}:alice:free`;

  it('reads the SSM parameter once per cold start, and again only after a failed read', async () => {
    const reads: string[] = [];
    let fail = true;
    const source = callersFromEnvironment(
      { API_KEYS_PARAM: '/offload/prod/api-keys', API_KEYS: '' },
      async (name) => {
        reads.push(name);
        if (fail) throw new Error('throttled');
        return entries;
      },
    );
    expect(reads).toEqual([]);
    await expect(source()).rejects.toThrow('throttled');
    fail = false;
    expect(identify(await source(), { 'x-api-key': 'key-a' }).userId).toBe('alice');
    await source();
    expect(reads).toEqual(['/offload/prod/api-keys', '/offload/prod/api-keys']);
  });

  it('uses the inline hashes where no parameter is named (the local stages)', async () => {
    const source = callersFromEnvironment({ API_KEYS_PARAM: '', API_KEYS: entries }, async () => {
      throw new Error('never read');
    });
    expect(identify(await source(), { 'x-api-key': 'key-a' }).userId).toBe('alice');
  });

  it('refuses a parameter that holds something other than hashed entries', async () => {
    const source = callersFromEnvironment({ API_KEYS_PARAM: '/p' }, async () => 'dev-key-alice:alice:free');
    await expect(source()).rejects.toThrow(ConfigError);
  });

  it('is a configuration error when neither variable is set', () => {
    expect(() => callersFromEnvironment({})).toThrow(ConfigError);
  });
});
