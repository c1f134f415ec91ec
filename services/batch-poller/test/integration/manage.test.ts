import { randomUUID } from 'node:crypto';
import { invokeFunction, stubControl, waitFor } from '@offload/testing';

const POLLER = 'offload-batch-poller-test-pollBatches';
const ALICE = 'dev-key-alice';
const CAROL = 'dev-key-carol';

interface JobView {
  job_id: string;
  status: string;
  processed_items: number;
  cancel_requested?: boolean;
}

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup did not run`);
  return value;
};
const poll = () => invokeFunction(env('BATCH_POLLER_LAMBDA_URL'), POLLER);

async function call<T>(method: string, path: string, key = ALICE, body?: unknown) {
  const res = await fetch(`${env('BATCH_POLLER_URL')}${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as T };
}

async function submit(tag: string, items = 2, key = ALICE): Promise<string> {
  const res = await call<{ job_id: string }>('POST', '/batch-jobs', key, {
    items: Array.from({ length: items }, (_, i) => ({ input: `${tag} ${i}` })),
  });
  expect(res.status).toBe(202);
  return res.json.job_id;
}

describe('GET /batch-jobs and DELETE /batch-jobs/{id} over HTTP', () => {
  afterEach(async () => {
    await stubControl('/_stub/config', 'POST', {
      batchPhasesMs: { validatingMs: 100, inProgressMs: 300, finalizingMs: 100 },
    });
  });

  it('lists only the caller’s batch jobs, newest first, with a cursor and a status filter', async () => {
    const first = await submit(`list-${randomUUID()}`);
    const second = await submit(`list-${randomUUID()}`);
    const theirs = await submit(`list-${randomUUID()}`, 1, CAROL);
    const page = await call<{ batch_jobs: JobView[]; next_cursor: string | null }>(
      'GET',
      '/batch-jobs?limit=1',
    );
    expect(page.status).toBe(200);
    expect(page.json.batch_jobs.map((j) => j.job_id)).toEqual([second]);
    const next = await call<{ batch_jobs: JobView[] }>(
      'GET',
      `/batch-jobs?limit=1&cursor=${encodeURIComponent(page.json.next_cursor!)}`,
    );
    expect(next.json.batch_jobs.map((j) => j.job_id)).toEqual([first]);
    const all = await call<{ batch_jobs: JobView[] }>('GET', '/batch-jobs?limit=100&status=running');
    expect(all.json.batch_jobs.every((j) => j.status === 'running')).toBe(true);
    expect(all.json.batch_jobs.map((j) => j.job_id)).not.toContain(theirs);
    expect((await call('GET', '/batch-jobs?status=nope')).status).toBe(400);
  });

  it('cancels a running batch job at the provider; the poller ends it cancelled', async () => {
    await stubControl('/_stub/config', 'POST', {
      batchPhasesMs: { validatingMs: 100, inProgressMs: 60_000, finalizingMs: 100 },
    });
    const id = await submit(`cancel-${randomUUID()}`, 3);
    expect((await call('DELETE', `/batch-jobs/${id}`, CAROL)).status).toBe(404);
    const res = await call<JobView>('DELETE', `/batch-jobs/${id}`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ job_id: id, cancel_requested: true });
    const ended = await waitFor(
      `batch job ${id} to end`,
      async () => {
        await poll();
        const { json } = await call<JobView>('GET', `/batch-jobs/${id}`);
        return json.status !== 'running' && json.status !== 'queued' ? json : undefined;
      },
      { intervalMs: 300, timeoutMs: 30_000 },
    );
    expect(ended).toMatchObject({ status: 'cancelled', processed_items: 3 });
    const items = await call<{ items: { status: string }[] }>('GET', `/batch-jobs/${id}/items`);
    expect(items.json.items.map((i) => i.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    const again = await call<{ error: { code: string } }>('DELETE', `/batch-jobs/${id}`);
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('job_finished');
  });
});
