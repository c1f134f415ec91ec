import { ConfigError } from '@offload/errors';
import { env, readConfig } from './index';

describe('readConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = readConfig(
      { TABLE: env.name(), LIMIT: env.int(10), DEBUG: env.flag(false) },
      { TABLE: 't' },
    );
    expect(config).toEqual({ TABLE: 't', LIMIT: 10, DEBUG: false });
  });

  it('coerces numbers and flags from their string form', () => {
    const config = readConfig({ LIMIT: env.int(10), DEBUG: env.flag(false) }, { LIMIT: '25', DEBUG: '1' });
    expect(config).toEqual({ LIMIT: 25, DEBUG: true });
  });

  it('fails naming every missing or malformed variable', () => {
    const read = () => readConfig({ TABLE: env.name(), LIMIT: env.int(10) }, { LIMIT: 'many' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/TABLE: .*LIMIT: /);
  });

  it("reads the OpenAI client's variables with the worker's defaults, and retries only from 0 to 10", () => {
    const openai = env.openai({ maxRetries: 4, timeoutMs: 10_000 });
    expect(readConfig(openai, {})).toEqual({
      OPENAI_MODEL: 'gpt-4o-mini',
      OPENAI_MAX_RETRIES: 4,
      OPENAI_TIMEOUT_MS: 10_000,
    });
    expect(readConfig(openai, { OPENAI_MODEL: 'gpt-x', OPENAI_MAX_RETRIES: '0' })).toMatchObject({
      OPENAI_MODEL: 'gpt-x',
      OPENAI_MAX_RETRIES: 0,
    });
    expect(() => readConfig(openai, { OPENAI_MAX_RETRIES: '11' })).toThrow(/OPENAI_MAX_RETRIES: /);
  });
});
