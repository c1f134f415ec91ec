import { randomUUID } from 'node:crypto';
import { stubControl, waitFor } from '@offload/testing';

const ALICE = 'dev-key-alice';
const CAROL = 'dev-key-carol';

interface JobView {
  job_id: string;
  status: string;
  progress: number;
  cancel_requested?: boolean;
  created_at: string;
}

const api = () => {
  const url = process.env.AI_JOBS_URL;
  if (!url) throw new Error('AI_JOBS_URL is not set: the integration globalSetup did not run');
  return url;
};

async function call<T>(method: string, path: string, key = ALICE, body?: unknown) {
  const res = await fetch(`${api()}${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as T };
}

async function submit(body: unknown, key = ALICE): Promise<string> {
  const res = await call<{ job_id: string }>('POST', '/jobs', key, body);
  expect(res.status).toBe(202);
  return res.json.job_id;
}

const chatCount = async (match: string) =>
  (await stubControl<{ count: number }>(`/_stub/chat-count?match=${encodeURIComponent(match)}`)).count;

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /jobs and DELETE /jobs/{id} over HTTP', () => {
  afterEach(async () => {
    await stubControl('/_stub/config', 'POST', { latencyMs: 20 });
  });

  it('accepts seed 000’s example without rounds (default 3 rounds)', async () => {
    const id = await submit({
      type: 'simulation',
      config: { agents: 2, topic: `default-rounds-${randomUUID()}` },
    });
    const job = await waitFor(`job ${id} to succeed`, async () => {
      const { json } = await call<JobView & { result?: { transcript: unknown[] } }>('GET', `/jobs/${id}`);
      return json.status === 'succeeded' ? json : undefined;
    });
    expect(job.result?.transcript).toHaveLength(2 * 3);
  });

  it('lists only the caller’s jobs, newest first, a page at a time, with a status filter', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 3; i++)
      mine.push(await submit({ type: 'completion', config: { prompt: `list ${i}` } }));
    const theirs = await submit({ type: 'completion', config: { prompt: 'carol’s' } }, CAROL);

    const first = await call<{ jobs: JobView[]; next_cursor: string | null }>('GET', '/jobs?limit=2');
    expect(first.status).toBe(200);
    expect(first.json.jobs.map((j) => j.job_id)).toEqual([mine[2], mine[1]]);
    expect(first.json.next_cursor).toEqual(expect.any(String));
    const second = await call<{ jobs: JobView[] }>(
      'GET',
      `/jobs?limit=2&cursor=${encodeURIComponent(first.json.next_cursor!)}`,
    );
    expect(second.json.jobs[0]?.job_id).toBe(mine[0]);
    const all = await call<{ jobs: JobView[] }>('GET', '/jobs?limit=100');
    const created = all.json.jobs.map((j) => j.created_at);
    expect([...created].sort().reverse()).toEqual(created);
    expect(all.json.jobs.map((j) => j.job_id)).not.toContain(theirs);
    const carols = await call<{ jobs: JobView[] }>('GET', '/jobs', CAROL);
    expect(carols.json.jobs.map((j) => j.job_id)).toContain(theirs);
    expect(carols.json.jobs.map((j) => j.job_id)).not.toContain(mine[0]);

    await waitFor('the jobs to succeed', async () => {
      const page = await call<{ jobs: JobView[] }>('GET', '/jobs?status=succeeded&limit=100');
      expect(page.json.jobs.every((j) => j.status === 'succeeded')).toBe(true);
      return mine.every((id) => page.json.jobs.some((j) => j.job_id === id));
    });
  });

  it('answers 400 naming the field for a bad status, limit or cursor, and 401 without a key', async () => {
    for (const [query, field] of [
      ['status=done', 'status'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['cursor=nope', 'cursor'],
    ] as const) {
      const res = await call<{ error: { details: { field: string }[] } }>('GET', `/jobs?${query}`);
      expect(res.status).toBe(400);
      expect(res.json.error.details.map((d) => d.field)).toContain(field);
    }
    expect((await fetch(`${api()}/jobs`)).status).toBe(401);
  });

  it('cancels a queued job at once; the processor skips it and the LLM is never called', async () => {
    const topic = `cancel-queued-${randomUUID()}`;
    // Hold the processors on another job so this one is still queued when the DELETE comes.
    await stubControl('/_stub/config', 'POST', { latencyMs: 1500 });
    const blockers: string[] = [];
    for (let i = 0; i < 6; i++)
      blockers.push(await submit({ type: 'completion', config: { prompt: `blocker ${i}` } }));
    const id = await submit({ type: 'completion', config: { prompt: topic } });
    const res = await call<JobView>('DELETE', `/jobs/${id}`);
    if (res.status === 202)
      throw new Error('the job started before the cancel; the test needs more blockers');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ job_id: id, status: 'cancelled' });
    await stubControl('/_stub/config', 'POST', { latencyMs: 20 });
    await waitFor('the blockers to finish', async () => {
      const page = await call<{ jobs: JobView[] }>('GET', '/jobs?limit=100');
      return blockers.every((b) => page.json.jobs.find((j) => j.job_id === b)?.status === 'succeeded');
    });
    await settle(500);
    expect((await call<JobView>('GET', `/jobs/${id}`)).json.status).toBe('cancelled');
    expect(await chatCount(topic)).toBe(0);
    const again = await call<{ error: { code: string } }>('DELETE', `/jobs/${id}`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('job_finished');
  });

  it('stops a processing job between LLM steps: it ends cancelled and the LLM is not called again', async () => {
    const topic = `cancel-running-${randomUUID()}`;
    await stubControl('/_stub/config', 'POST', { latencyMs: 250 });
    const id = await submit({ type: 'discussion', config: { topic, agents: 3, rounds: 3 } });
    await waitFor('the job to make progress', async () => {
      const { json } = await call<JobView>('GET', `/jobs/${id}`);
      return json.status === 'processing' && json.progress > 0;
    });
    const res = await call<JobView>('DELETE', `/jobs/${id}`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ status: 'processing', cancel_requested: true });
    const callsAtCancel = await chatCount(topic);
    const ended = await waitFor('the job to end', async () => {
      const { json, headers } = await call<JobView>('GET', `/jobs/${id}`);
      return json.status !== 'processing' ? { json, headers } : undefined;
    });
    expect(ended.json.status).toBe('cancelled');
    expect(ended.headers.get('retry-after')).toBeNull();
    const callsAtEnd = await chatCount(topic);
    // At most the step in flight when the DELETE came finished; none started after it.
    expect(callsAtEnd - callsAtCancel).toBeLessThanOrEqual(1);
    expect(callsAtEnd).toBeLessThan(3 * 3 + 1);
    await settle(1000);
    expect(await chatCount(topic)).toBe(callsAtEnd);
  });

  it('hides another caller’s job from DELETE (404) and leaves it running', async () => {
    const id = await submit({ type: 'completion', config: { prompt: 'not yours' } });
    const res = await call<{ error: { code: string } }>('DELETE', `/jobs/${id}`, CAROL);
    expect(res.status).toBe(404);
    expect((await call<JobView>('GET', `/jobs/${id}`)).json.status).not.toBe('cancelled');
  });
});
