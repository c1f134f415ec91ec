import { randomUUID } from 'node:crypto';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '@offload/aws/dynamodb';
import { invokeFunction, stubControl, waitFor } from '@offload/testing';

// Names and limits follow services/ai-jobs/serverless.yml at the `test` stage the harness starts.
const JOBS_TABLE = 'offload-ai-jobs-test-jobs';
const FREE_LLM_CALLS_PER_HOUR = 600;
const ALICE = 'dev-key-alice'; // free tier
const CAROL = 'dev-key-carol'; // free tier; only this suite spends her budget

interface JobView {
  job_id: string;
  status: string;
  result?: unknown;
  error?: { code: string; message: string };
}

const api = () => {
  const url = process.env.AI_JOBS_URL;
  if (!url) throw new Error('AI_JOBS_URL is not set: the integration globalSetup did not run');
  return url;
};

async function post(body: unknown, key = ALICE) {
  const res = await fetch(`${api()}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function finished(id: string, key = ALICE): Promise<JobView> {
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const res = await fetch(`${api()}/jobs/${id}`, { headers: { 'x-api-key': key } });
      const job = (await res.json()) as JobView;
      return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
    },
    { intervalMs: 200 },
  );
}

/** Chat completions the stand-in saw whose prompt contains `match` (counted from when it was registered). */
async function llmCalls(match: string): Promise<number> {
  const stats = await stubControl<{ answers: { match: string; calls: number }[] }>('/_stub/stats');
  return stats.answers.find((a) => a.match === match)?.calls ?? 0;
}

async function jobCount(): Promise<number> {
  const out = await dynamo.send(
    new ScanCommand({ TableName: JOBS_TABLE, Select: 'COUNT', ConsistentRead: true }),
  );
  return out.Count ?? 0;
}

describe('ai-jobs limits and undeliverable results, over HTTP with the local emulators', () => {
  afterAll(async () => {
    await stubControl('/_stub/faults', 'DELETE');
    await stubControl('/_stub/answers', 'DELETE');
  });

  it('answers 429 budget_exceeded with Retry-After before any LLM call once a free caller’s hour is spent', async () => {
    // Each 20-agent, 10-round job is charged its worst case, 201 calls, when accepted. Its LLM
    // calls fail at once here, so spending the budget costs the stand-in almost nothing.
    const big = (topic: string) => ({ type: 'panel', config: { topic, agents: 20, rounds: 10 } });
    const spent = [`budget-a-${randomUUID()}`, `budget-b-${randomUUID()}`];
    for (const topic of spent) {
      await stubControl('/_stub/faults', 'POST', { match: topic, times: 'always', status: 400 });
      expect((await post(big(topic), CAROL)).status).toBe(202);
    }
    expect(2 * 201 + 201).toBeGreaterThan(FREE_LLM_CALLS_PER_HOUR);

    const refused = `budget-c-${randomUUID()}`;
    await stubControl('/_stub/answers', 'POST', { match: refused });
    const before = await jobCount();
    const res = await post(big(refused), CAROL);
    expect(res.status).toBe(429);
    expect(res.json.error).toMatchObject({ code: 'budget_exceeded' });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);

    // Nothing recorded, so nothing published: no processor ever asks the model about it.
    expect(await jobCount()).toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await llmCalls(refused)).toBe(0);

    // The budget counts calls, not requests: a one-call completion still fits this hour.
    expect(
      (await post({ type: 'completion', config: { prompt: `small ${randomUUID()}` } }, CAROL)).status,
    ).toBe(202);
  });

  it('runs a job whose prompt holds an emoji to succeeded with the emoji intact', async () => {
    const res = await post({ type: 'completion', config: { prompt: 'one emoji 😀' } });
    expect(res.status).toBe(202);
    const job = await finished(res.json.job_id as string);
    expect(job.status).toBe('succeeded');
    expect((job.result as { text: string }).text).toContain('one emoji 😀');
  });

  it('ends a job whose result is too large to deliver failed with result_too_large, not stuck processing', async () => {
    const prompt = `huge-${randomUUID()}`;
    await stubControl('/_stub/answers', 'POST', { match: prompt, contentChars: 300_000 });
    const res = await post({ type: 'completion', config: { prompt } });
    expect(res.status).toBe(202);
    const job = await finished(res.json.job_id as string);
    expect(job).toMatchObject({
      status: 'failed',
      error: { code: 'result_too_large', message: expect.stringMatching(/262144 bytes/) },
    });
    expect(job.result).toBeUndefined();
    // Run once: an undeliverable result is not retried (it would spend the same calls again).
    expect(await llmCalls(prompt)).toBe(1);
  });

  it('publishes a job stuck queued again from the sweeper, and it then runs to succeeded', async () => {
    // What a lost SNS delivery leaves behind: a `queued` record no processor ever saw. The test
    // stage sweeps jobs queued for more than 60 s.
    const at = new Date(Date.now() - 10 * 60_000).toISOString();
    const lost = {
      job_id: randomUUID(),
      owner: 'alice',
      type: 'completion',
      config: { prompt: `lost delivery ${randomUUID()}` },
      priority: 'normal',
      status: 'queued',
      open_status: 'queued',
      progress: 0,
      attempts: 0,
      created_at: at,
      updated_at: at,
    };
    await dynamo.send(new PutCommand({ TableName: JOBS_TABLE, Item: lost }));
    const report = await invokeFunction<{ republished: number }>(
      process.env.AI_JOBS_LAMBDA_URL!,
      'offload-ai-jobs-test-sweepStaleJobs',
    );
    expect(report.republished).toBeGreaterThanOrEqual(1);
    const job = await finished(lost.job_id);
    expect(job.status).toBe('succeeded');
  });
});
