import OpenAI, { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import { startOpenAIStub, type OpenAIStub } from './server';

// Long enough that a 5 ms poll sees every phase even on a loaded CI machine.
const PHASE_MS = 50;

let stub: OpenAIStub;
let client: OpenAI;
let root: string;

/** Calls a control route of the stand-in, which lives beside /v1 rather than under it. */
async function control(path: string, method: string, body?: unknown) {
  const res = await fetch(new URL(path, root), {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
  return (await res.json()) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function requestLine(customId: string, prompt: string) {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-test', messages: [{ role: 'user', content: prompt }] },
  };
}

async function upload(lines: unknown[]) {
  const jsonl = lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
  return client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
}

async function createBatch(lines: unknown[]) {
  const file = await upload(lines);
  return client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
}

/** Polls the batch until it reaches a terminal status, recording every status seen on the way. */
async function pollUntilDone(id: string, timeoutMs = 3000) {
  const seen: Batch['status'][] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (seen[seen.length - 1] !== batch.status) seen.push(batch.status);
    if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) return { batch, seen };
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status}; saw ${seen.join(', ')}`);
    await sleep(5);
  }
}

async function readJsonl(fileId: string) {
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  stub = await startOpenAIStub({
    port: 0,
    latencyMs: 0,
    batchPhasesMs: { validatingMs: PHASE_MS, inProgressMs: PHASE_MS, finalizingMs: PHASE_MS },
  });
  root = stub.url.replace(/\/v1$/, '');
  client = new OpenAI({ baseURL: stub.url, apiKey: 'test', maxRetries: 0 });
});

afterAll(async () => {
  await stub.stop();
});

afterEach(async () => {
  await control('/_stub/batch-outcomes', 'DELETE');
  await control('/_stub/config', 'POST', { rateLimitShare: 0, retryAfterMs: null });
});

describe('OpenAI stand-in: Files API', () => {
  it('stores a multipart upload from the SDK and serves its metadata and exact bytes back', async () => {
    const lines = [requestLine('a', 'hello')];
    const jsonl = lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
    const file = await upload(lines);

    expect(file).toMatchObject({
      object: 'file',
      bytes: Buffer.byteLength(jsonl),
      filename: 'in.jsonl',
      purpose: 'batch',
      status: 'processed',
    });
    expect(file.id).toMatch(/^file-/);
    expect(await client.files.retrieve(file.id)).toEqual(file);
    expect(await (await client.files.content(file.id)).text()).toBe(jsonl);
  });

  it('answers 404 in the OpenAI error shape for an unknown file id', async () => {
    await expect(client.files.retrieve('file-missing')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const res = await fetch(`${stub.url}/files/file-missing/content`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: expect.objectContaining({ type: 'invalid_request_error', message: expect.any(String) }),
    });
  });
});

describe('OpenAI stand-in: Batch API', () => {
  it('moves a batch through validating, in_progress and finalizing to completed with one chat completion per input line', async () => {
    const lines = [requestLine('req-1', 'first prompt'), requestLine('req-2', 'second prompt')];
    const created = await createBatch(lines);
    expect(created).toMatchObject({
      object: 'batch',
      status: 'validating',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      request_counts: { total: 2, completed: 0, failed: 0 },
      output_file_id: null,
      error_file_id: null,
      in_progress_at: null,
      completed_at: null,
    });
    expect(created.id).toMatch(/^batch_/);

    const { batch, seen } = await pollUntilDone(created.id);
    expect(seen).toEqual(['validating', 'in_progress', 'finalizing', 'completed']);
    expect(batch.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(batch.in_progress_at).toEqual(expect.any(Number));
    expect(batch.finalizing_at).toEqual(expect.any(Number));
    expect(batch.completed_at).toEqual(expect.any(Number));
    expect(batch.error_file_id).toBeNull();

    const output = await readJsonl(batch.output_file_id!);
    expect(output.map((line) => line.custom_id)).toEqual(['req-1', 'req-2']);
    expect(output[0]).toMatchObject({
      id: expect.stringMatching(/^batch_req_/),
      error: null,
      response: {
        status_code: 200,
        request_id: expect.any(String),
        body: {
          object: 'chat.completion',
          model: 'gpt-test',
          choices: [{ message: { role: 'assistant', content: expect.stringContaining('first prompt') } }],
        },
      },
    });
    expect((await client.files.retrieve(batch.output_file_id!)).purpose).toBe('batch_output');
  });

  it('builds batch output bodies exactly like the chat completions route answers', async () => {
    const created = await createBatch([requestLine('same', 'identical prompt')]);
    const { batch } = await pollUntilDone(created.id);
    const [line] = await readJsonl(batch.output_file_id!);
    const direct = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'identical prompt' }],
    });
    const { created: _a, ...fromBatch } = (line!.response as { body: Record<string, unknown> }).body;
    const { created: _b, ...fromChat } = direct as unknown as Record<string, unknown>;
    expect(fromBatch).toEqual(fromChat);
  });

  it('ends a batch whose input matches a failed outcome in failed after validating, with the injected error', async () => {
    await control('/_stub/batch-outcomes', 'POST', { match: 'poison-fail', outcome: 'failed' });
    const created = await createBatch([requestLine('x', 'poison-fail please')]);
    const { batch, seen } = await pollUntilDone(created.id);

    expect(seen).toEqual(['validating', 'failed']);
    expect(batch.failed_at).toEqual(expect.any(Number));
    expect(batch.in_progress_at).toBeNull();
    expect(batch.errors).toEqual({
      object: 'list',
      data: [
        { code: 'invalid_request', message: 'Injected failure for "poison-fail"', line: null, param: null },
      ],
    });
    expect(batch.output_file_id).toBeNull();
  });

  it('ends a batch matching an expired outcome in expired after in_progress, with every request in the error file', async () => {
    await control('/_stub/batch-outcomes', 'POST', { match: 'slow-topic', outcome: 'expired' });
    const created = await createBatch([requestLine('e1', 'slow-topic one'), requestLine('e2', 'two')]);
    const { batch, seen } = await pollUntilDone(created.id);

    expect(seen).toEqual(['validating', 'in_progress', 'expired']);
    expect(batch.expired_at).toEqual(expect.any(Number));
    expect(batch.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
    expect(batch.output_file_id).toBeNull();
    const errors = await readJsonl(batch.error_file_id!);
    expect(errors.map((line) => line.custom_id)).toEqual(['e1', 'e2']);
    expect(errors[0]).toMatchObject({ response: null, error: { code: 'batch_expired' } });
  });

  it('completes a batch matching an item_error outcome with every line in the error file and no output file', async () => {
    await control('/_stub/batch-outcomes', 'POST', { match: 'flaky-item', outcome: 'item_error' });
    const created = await createBatch([requestLine('i1', 'flaky-item a'), requestLine('i2', 'b')]);
    const { batch, seen } = await pollUntilDone(created.id);

    expect(seen).toEqual(['validating', 'in_progress', 'finalizing', 'completed']);
    expect(batch.request_counts).toEqual({ total: 2, completed: 0, failed: 2 });
    expect(batch.output_file_id).toBeNull();
    const errors = await readJsonl(batch.error_file_id!);
    expect(errors.map((line) => line.custom_id)).toEqual(['i1', 'i2']);
    expect(errors[0]).toMatchObject({
      id: expect.stringMatching(/^batch_req_/),
      response: { status_code: 500 },
      error: { code: 'server_error', message: 'Injected item failure for "flaky-item"' },
    });
  });

  it('lets a batch complete normally again once the outcomes are cleared', async () => {
    await control('/_stub/batch-outcomes', 'POST', { match: 'cleared-match', outcome: 'failed' });
    await control('/_stub/batch-outcomes', 'DELETE');
    const created = await createBatch([requestLine('c', 'cleared-match')]);
    const { batch } = await pollUntilDone(created.id);
    expect(batch.status).toBe('completed');
  });

  it('cancels a running batch: cancelling at once, cancelled after the finalizing phase, no output', async () => {
    const created = await createBatch([requestLine('k', 'cancel me')]);
    const cancelling = await client.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toEqual(expect.any(Number));

    const { batch, seen } = await pollUntilDone(created.id);
    expect(seen).toEqual(['cancelling', 'cancelled']);
    expect(batch.cancelled_at).toEqual(expect.any(Number));
    expect(batch.completed_at).toBeNull();
    expect(batch.output_file_id).toBeNull();
  });

  it('refuses to cancel a batch that already completed', async () => {
    const created = await createBatch([requestLine('done', 'finished')]);
    await pollUntilDone(created.id);
    await expect(client.batches.cancel(created.id)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('lists created batches newest first', async () => {
    const first = await createBatch([requestLine('l1', 'list one')]);
    const second = await createBatch([requestLine('l2', 'list two')]);
    const page = await client.batches.list({ limit: 2 });
    expect(page.data.map((batch) => batch.id)).toEqual([second.id, first.id]);
  });

  it('answers 404 for an unknown batch id', async () => {
    await expect(client.batches.retrieve('batch_missing')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.batches.cancel('batch_missing')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('rejects a batch with 400 when the input file is unknown', async () => {
    await expect(
      client.batches.create({
        input_file_id: 'file-missing',
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it.each([
    ['a line that is not JSON', 'not json'],
    ['a line without custom_id', { method: 'POST', url: '/v1/chat/completions', body: {} }],
    ['a line without body', { custom_id: 'n', method: 'POST', url: '/v1/chat/completions' }],
  ])('rejects a batch with 400 when its input has %s', async (_name, bad) => {
    const file = await client.files.create({
      file: await toFile(
        Buffer.from(
          `${JSON.stringify(requestLine('ok', 'fine'))}\n${typeof bad === 'string' ? bad : JSON.stringify(bad)}\n`,
        ),
        'bad.jsonl',
      ),
      purpose: 'batch',
    });
    await expect(
      client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Line 2') });
  });
});

describe('OpenAI stand-in: rate limiting of the Files and Batch APIs', () => {
  it('answers every file and batch request 429 at share 1, counts it, and recovers at share 0', async () => {
    const created = await createBatch([requestLine('r', 'rate limited')]);
    const before = (await control('/_stub/stats', 'GET')) as { rateLimited: number; batchRequests: number };

    await control('/_stub/config', 'POST', { rateLimitShare: 1 });
    const rejected = client.batches.retrieve(created.id);
    await expect(rejected).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await expect(rejected).rejects.toMatchObject({ status: 429, type: 'rate_limit_exceeded' });
    const after = (await control('/_stub/stats', 'GET')) as { rateLimited: number; batchRequests: number };
    expect(after.rateLimited).toBe(before.rateLimited + 1);
    expect(after.batchRequests).toBe(before.batchRequests + 1);

    await control('/_stub/config', 'POST', { rateLimitShare: 0 });
    await expect(client.batches.retrieve(created.id)).resolves.toMatchObject({ id: created.id });
  });

  it('sends retry-after-ms only when retryAfterMs is configured', async () => {
    await control('/_stub/config', 'POST', { rateLimitShare: 1 });
    const plain = await fetch(`${stub.url}/batches`);
    expect(plain.status).toBe(429);
    expect(plain.headers.get('retry-after-ms')).toBeNull();
    expect(plain.headers.get('retry-after')).toBeNull();

    await control('/_stub/config', 'POST', { retryAfterMs: 250 });
    const hinted = await fetch(`${stub.url}/files/file-anything`);
    expect(hinted.status).toBe(429);
    expect(hinted.headers.get('retry-after-ms')).toBe('250');
    expect(await hinted.json()).toEqual({ error: expect.objectContaining({ type: 'rate_limit_exceeded' }) });
  });

  it('rate limits exactly the configured share of requests', async () => {
    await control('/_stub/config', 'POST', { rateLimitShare: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await fetch(`${stub.url}/batches`)).status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
  });

  it('never rate limits chat completions', async () => {
    await control('/_stub/config', 'POST', { rateLimitShare: 1 });
    const completion = await client.chat.completions.create({
      model: 'stub',
      messages: [{ role: 'user', content: 'still answered' }],
    });
    expect(completion.object).toBe('chat.completion');
  });

  it('lets the SDK retry through a 429 using the retry-after-ms hint', async () => {
    const created = await createBatch([requestLine('retry', 'retried')]);
    await control('/_stub/config', 'POST', { rateLimitShare: 0.5, retryAfterMs: 10 });
    const retrying = new OpenAI({ baseURL: stub.url, apiKey: 'test', maxRetries: 2 });
    const results = await Promise.all([0, 1, 2, 3].map(() => retrying.batches.retrieve(created.id)));
    expect(results.map((batch) => batch.id)).toEqual(Array(4).fill(created.id));
  });
});

describe('OpenAI stand-in: control API', () => {
  it('reports batches by status in the stats', async () => {
    const created = await createBatch([requestLine('s', 'stats')]);
    await pollUntilDone(created.id);
    const stats = (await control('/_stub/stats', 'GET')) as { batches: Record<string, number> };
    expect(stats.batches.completed).toBeGreaterThanOrEqual(1);
    expect(Object.keys(stats.batches)).toEqual(
      expect.arrayContaining(['validating', 'in_progress', 'finalizing', 'completed', 'failed', 'expired']),
    );
  });

  it('applies batchPhasesMs from the config to batches created afterwards', async () => {
    await control('/_stub/config', 'POST', { batchPhasesMs: { validatingMs: 5000 } });
    try {
      const created = await createBatch([requestLine('p', 'slow validation')]);
      await sleep(PHASE_MS * 4);
      expect((await client.batches.retrieve(created.id)).status).toBe('validating');
    } finally {
      await control('/_stub/config', 'POST', { batchPhasesMs: { validatingMs: PHASE_MS } });
    }
  });

  it('DELETE /_stub/state drops files, batches and outcomes and restores the start-up config', async () => {
    const created = await createBatch([requestLine('gone', 'reset me')]);
    await control('/_stub/batch-outcomes', 'POST', { match: 'after-reset', outcome: 'failed' });
    await control('/_stub/config', 'POST', { rateLimitShare: 1, retryAfterMs: 5 });

    await control('/_stub/state', 'DELETE');

    await expect(client.batches.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.files.retrieve(created.input_file_id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const config = await control('/_stub/config', 'POST', {});
    expect(config).toEqual({
      latencyMs: 0,
      rateLimitShare: 0,
      retryAfterMs: null,
      batchPhasesMs: { validatingMs: PHASE_MS, inProgressMs: PHASE_MS, finalizingMs: PHASE_MS },
    });
    const fresh = await createBatch([requestLine('after', 'after-reset')]);
    expect((await pollUntilDone(fresh.id)).batch.status).toBe('completed');
  });
});

describe('OpenAI stand-in: answer rules', () => {
  afterEach(async () => {
    await control('/_stub/answers', 'DELETE');
  });

  it('counts the chat completions a rule matches and answers with the length it asks for', async () => {
    await control('/_stub/answers', 'POST', { match: 'count-me' });
    await control('/_stub/answers', 'POST', { match: 'make-it-big', contentChars: 5000 });
    const ask = (content: string) =>
      client.chat.completions.create({ model: 'stub', messages: [{ role: 'user', content }] });

    await ask('please count-me');
    await ask('count-me again');
    await ask('not matched');
    const big = await ask('make-it-big now');

    expect(big.choices[0]?.message.content).toHaveLength(5000);
    const stats = (await control('/_stub/stats', 'GET')) as { answers: { match: string; calls: number }[] };
    expect(stats.answers).toEqual([
      { match: 'count-me', calls: 2 },
      { match: 'make-it-big', calls: 1 },
    ]);
  });
});

describe('OpenAI stand-in: fault rules', () => {
  const chat = (content: string) =>
    fetch(new URL('chat/completions', `${stub.url}/`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stub', messages: [{ role: 'user', content }] }),
    });

  it('fails a matching prompt with the status asked, `times` times, until the faults are cleared', async () => {
    expect(await control('/_stub/faults', 'POST', { match: 'break-me', status: 503, times: 2 })).toEqual({
      faults: 1,
    });
    expect((await chat('please break-me')).status).toBe(503);
    expect((await chat('not this one')).status).toBe(200);
    expect((await chat('break-me twice')).status).toBe(503);
    expect((await chat('break-me thrice')).status).toBe(200);

    await control('/_stub/faults', 'POST', { match: 'break-me', times: 'always' });
    expect((await chat('break-me again')).status).toBe(500);
    expect(await control('/_stub/faults', 'DELETE')).toEqual({ faults: 0 });
    expect((await chat('break-me after clearing')).status).toBe(200);
  });

  it('refuses a rule without its required fields with a 400 naming them', async () => {
    for (const [path, body] of [
      ['/_stub/answers', {}],
      ['/_stub/delays', { match: 'x', delayMs: -1 }],
      ['/_stub/batch-outcomes', { match: 'x', outcome: 'exploded' }],
    ] as const) {
      const res = await fetch(new URL(path, root), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/match/);
    }
  });
});

describe('OpenAI stand-in: chat completion delays', () => {
  it('answers a matching prompt late, `times` times, and others at once', async () => {
    await control('/_stub/delays', 'POST', { match: 'slow-prompt', delayMs: 300 });
    const ask = async (content: string) => {
      const started = Date.now();
      await client.chat.completions.create({ model: 'stub', messages: [{ role: 'user', content }] });
      return Date.now() - started;
    };
    expect(await ask('a slow-prompt here')).toBeGreaterThanOrEqual(290);
    expect(await ask('a slow-prompt again')).toBeLessThan(250);
    await control('/_stub/delays', 'POST', { match: 'slow-prompt', delayMs: 300, times: 'always' });
    await control('/_stub/delays', 'DELETE');
    expect(await ask('a slow-prompt after clearing')).toBeLessThan(250);
  });
});

describe('OpenAI stand-in: Idempotency-Key on file and batch creation', () => {
  const stats = async () => (await control('/_stub/stats', 'GET')) as Record<string, number>;
  const keyed = (key: string) => ({ headers: { 'Idempotency-Key': key } });

  it('answers the first file and batch again for a repeated key, creating nothing new', async () => {
    const before = await stats();
    const jsonl = `${JSON.stringify(requestLine('a', 'same key'))}\n`;
    const upload = async () =>
      client.files.create(
        { file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' },
        keyed('k-file-1'),
      );
    const [first, again] = [await upload(), await upload()];
    expect(again.id).toBe(first.id);
    const create = () =>
      client.batches.create(
        { input_file_id: first.id, endpoint: '/v1/chat/completions', completion_window: '24h' },
        keyed('k-batch-1'),
      );
    const [batch, replayed] = await Promise.all([create(), create()]);
    expect(replayed.id).toBe(batch.id);
    const after = await stats();
    expect(after.filesCreated! - before.filesCreated!).toBe(1);
    expect(after.batchesCreated! - before.batchesCreated!).toBe(1);
    expect(after.idempotentReplays! - before.idempotentReplays!).toBe(2);
  });

  it('creates a new object for a new key or no key, and keeps no key for a refused request', async () => {
    const file = await upload([requestLine('a', 'keys')]);
    const params = {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    } as const;
    const one = await client.batches.create(params, keyed('k-batch-2'));
    const two = await client.batches.create(params, keyed('k-batch-3'));
    const three = await client.batches.create(params);
    expect(new Set([one.id, two.id, three.id]).size).toBe(3);

    const bad = { ...params, input_file_id: 'file-missing' };
    await expect(client.batches.create(bad, keyed('k-batch-4'))).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    expect((await client.batches.create(params, keyed('k-batch-4'))).input_file_id).toBe(file.id);
  });

  it('counts deleted files and forgets them', async () => {
    const before = await stats();
    const file = await upload([requestLine('a', 'delete me')]);
    expect(await client.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    await expect(client.files.delete(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await stats()).filesDeleted! - before.filesDeleted!).toBe(1);
  });
});
