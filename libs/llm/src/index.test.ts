import { openaiApiKey } from './index';

describe('openaiApiKey', () => {
  const parameter = '/offload/dev/openai-api-key';

  it('uses OPENAI_API_KEY when set and never reads SSM (local runs)', async () => {
    const read = jest.fn();
    const key = openaiApiKey({ OPENAI_API_KEY: 'sk-local', OPENAI_API_KEY_PARAM: parameter }, read);
    await expect(key()).resolves.toBe('sk-local');
    expect(read).not.toHaveBeenCalled();
  });

  it('reads the parameter OPENAI_API_KEY_PARAM names once per cold start (deployed stages)', async () => {
    const read = jest.fn().mockResolvedValue('sk-from-ssm');
    const key = openaiApiKey({ OPENAI_API_KEY_PARAM: parameter }, read);
    await expect(key()).resolves.toBe('sk-from-ssm');
    await expect(key()).resolves.toBe('sk-from-ssm');
    expect(read).toHaveBeenCalledTimes(1);
    expect(read).toHaveBeenCalledWith(parameter);
  });

  it('does not cache a failed lookup, so the next invocation retries', async () => {
    const read = jest.fn().mockRejectedValueOnce(new Error('throttled')).mockResolvedValue('sk-from-ssm');
    const key = openaiApiKey({ OPENAI_API_KEY_PARAM: parameter }, read);
    await expect(key()).rejects.toThrow('throttled');
    await expect(key()).resolves.toBe('sk-from-ssm');
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('treats empty variables as unset (local stages set an empty parameter name)', async () => {
    const read = jest.fn();
    const key = openaiApiKey({ OPENAI_API_KEY: '', OPENAI_API_KEY_PARAM: '' }, read);
    await expect(key()).resolves.toBeUndefined();
    expect(read).not.toHaveBeenCalled();
  });
});
