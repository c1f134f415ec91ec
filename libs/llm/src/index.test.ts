import { DEFAULT_MAX_TOKENS, openaiApiKey, openaiLlm } from './index';

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

describe('openaiLlm', () => {
  // A bare OpenAI-compatible endpoint that keeps each request body, so the test sees the wire.
  async function endpoint() {
    const { createServer } = await import('node:http');
    const bodies: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(raw) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 0,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { bodies, baseUrl: `http://127.0.0.1:${port}/v1`, close: () => server.close() };
  }

  it.each([
    [undefined, DEFAULT_MAX_TOKENS],
    [200, 200],
  ])('caps every call with max_tokens (option %p sends %p)', async (maxTokens, sent) => {
    const stub = await endpoint();
    const before = process.env.OPENAI_BASE_URL;
    process.env.OPENAI_BASE_URL = stub.baseUrl;
    try {
      const llm = openaiLlm(
        { model: 'm', maxRetries: 0, timeoutMs: 5000, ...(maxTokens && { maxTokens }) },
        async () => 'sk-test',
      );
      await expect(llm.complete([{ role: 'user', content: 'hello' }])).resolves.toBe('hi');
      expect(stub.bodies).toEqual([expect.objectContaining({ max_tokens: sent })]);
    } finally {
      if (before === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = before;
      stub.close();
    }
  });
});
