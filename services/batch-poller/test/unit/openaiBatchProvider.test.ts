import { startOpenAIStub, type OpenAIStub } from '../../../../tools/openai-stub/server';
import { openaiBatchProvider } from '../../src/adapters/openaiBatchProvider';
import { isFinalCheck, outcomeOf, ProviderRejectedError, type ItemRequest } from '../../src/domain/batchJobs';

// The adapter over the real SDK against the in-process stand-in: what goes over the wire.
let stub: OpenAIStub;
let root: string;
const JOB = '4b0c3f5e-8d1e-4b8e-9a57-0a4f7e2c1d11';

async function control<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, root), {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

const provider = () =>
  openaiBatchProvider(
    { model: 'gpt-test', maxRetries: 2, timeoutMs: 5000, onRetry: () => undefined },
    async () => 'test-key',
  );
const request = (itemId: string, submitKey: string): ItemRequest => ({
  jobId: JOB,
  itemId,
  input: `input ${itemId}`,
  maxTokens: 77,
  submitKey,
});

beforeAll(async () => {
  stub = await startOpenAIStub({
    latencyMs: 0,
    batchPhasesMs: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 },
  });
  root = stub.url.replace(/\/v1$/, '');
  process.env.OPENAI_BASE_URL = stub.url;
});

afterAll(async () => {
  delete process.env.OPENAI_BASE_URL;
  await stub.stop();
});

describe('openaiBatchProvider', () => {
  it('sends max_tokens in the item’s request body', async () => {
    const batchId = await provider().submit(request('0001', 'key-a'));
    const batch = await control<{ input_file_id: string }>(`/v1/batches/${batchId}`);
    const res = await fetch(new URL(`/v1/files/${batch.input_file_id}/content`, root));
    const line = JSON.parse((await res.text()).trim()) as { body: { max_tokens: number } };
    expect(line.body.max_tokens).toBe(77);
  });

  it('answers the same batch for the same submit key, creating nothing new', async () => {
    const before = await control<{ filesCreated: number; batchesCreated: number }>('/_stub/stats');
    const first = await provider().submit(request('0002', 'key-b'));
    // A second submitter (a takeover after a crash) with a fresh client and the same key.
    const again = await provider().submit(request('0002', 'key-b'));
    expect(again).toBe(first);
    const after = await control<{ filesCreated: number; batchesCreated: number }>('/_stub/stats');
    expect(after.batchesCreated - before.batchesCreated).toBe(1);
    expect(after.filesCreated - before.filesCreated).toBe(1);
  });

  it('lists the batch’s files with a final check and deletes them, a missing one counting as deleted', async () => {
    const p = provider();
    const batchId = await p.submit(request('0003', 'key-c'));
    const check = await p.check(batchId);
    if (!isFinalCheck(check)) throw new Error(`expected a final check, got ${check.status}`);
    expect(check).toMatchObject({ status: 'succeeded', files: [expect.any(String), expect.any(String)] });
    for (const file of check.files) await p.deleteFile(file);
    for (const file of check.files) await expect(p.deleteFile(file)).resolves.toBeUndefined();
  });

  it('keeps the provider’s error text out of the public failure', async () => {
    await control('/_stub/batch-outcomes', 'POST', { match: 'input 0004', outcome: 'failed' });
    const p = provider();
    const check = await p.check(await p.submit(request('0004', 'key-d')));
    await control('/_stub/batch-outcomes', 'DELETE');
    if (!isFinalCheck(check) || check.status === 'succeeded') throw new Error('expected a failure');
    expect(outcomeOf(check)).toMatchObject({ error: { code: 'provider_rejected' } });
    expect(JSON.stringify(outcomeOf(check))).not.toMatch(/Injected/);
  });

  it('marks a definite refusal as ProviderRejectedError, and a 429 after every retry as not definite', async () => {
    const once = () =>
      openaiBatchProvider(
        { model: 'gpt-test', maxRetries: 0, timeoutMs: 5000, onRetry: () => undefined },
        async () => 'test-key',
      );
    // The stand-in answers 404 for a route it does not serve: a refusal that created nothing.
    process.env.OPENAI_BASE_URL = `${root}/missing`;
    try {
      await expect(once().submit(request('0005', 'key-e'))).rejects.toBeInstanceOf(ProviderRejectedError);
    } finally {
      process.env.OPENAI_BASE_URL = stub.url;
    }
    // A 429 may hide a request that did land: the submit key must be kept, so it is not a refusal.
    await control('/_stub/config', 'POST', { rateLimitShare: 1 });
    try {
      const attempt = once().submit(request('0006', 'key-f'));
      await expect(attempt).rejects.toThrow(/429/);
      await expect(attempt).rejects.not.toBeInstanceOf(ProviderRejectedError);
    } finally {
      await control('/_stub/config', 'POST', { rateLimitShare: 0 });
    }
  });
});
