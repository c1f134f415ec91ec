import { UnauthorizedError } from '@offload/errors';
import { hashKey, identify, parseCallers } from './callers';

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
    expect(() => parseCallers('plain-key:alice:free')).toThrow(/API_KEYS entry/);
    expect(() => parseCallers(`${hashKey('k')}:alice:gold`)).toThrow(/API_KEYS entry/);
  });
});
