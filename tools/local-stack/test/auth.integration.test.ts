import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { invokeFunction, waitFor } from '@offload/testing';
import { localCorsOrigins } from '../offline';
import { discoverServices } from '../services';

// The auth contract of every route of every service, over HTTP against the local stack (stage
// `test`, the development keys of the README): who may call, whose records they see, and which
// browser origins may ask.

const ALICE = { 'x-api-key': 'dev-key-alice' };
const BOB = { authorization: 'Bearer dev-key-bob' };
const OPERATOR = { 'x-api-key': 'dev-key-olga' };
const HTTP_BASE = Number(process.env.TEST_HTTP_PORT ?? '13000');
const PAGE_ORIGIN = localCorsOrigins(HTTP_BASE).split(',')[0]!;
const OTHER_ORIGIN = 'https://elsewhere.example';

const urlOf = (service: string) => {
  const url = process.env[`${service.toUpperCase().replace(/-/g, '_')}_URL`];
  if (!url) throw new Error(`${service}: no URL, the integration globalSetup did not run`);
  return url;
};

/** The JSON fields these tests read. */
interface Body {
  error?: { code: string; message: string };
  task_id?: string;
  job_id?: string;
  podcast_id?: string;
  status?: string;
}

interface Route {
  service: string;
  method: string;
  path: string;
}

/** Every httpApi event declared in the services' serverless.yml files. */
const routes: Route[] = discoverServices().flatMap((service) =>
  [
    ...readFileSync(path.join(service.dir, 'serverless.yml'), 'utf8').matchAll(
      /httpApi:\s*\{\s*method:\s*(\w+),\s*path:\s*(?:'([^']+)'|([^\s,}]+))\s*\}/g,
    ),
  ].map(([, method, quoted, plain]) => ({
    service: service.name,
    method: method!,
    path: (quoted ?? plain)!,
  })),
);

const concrete = (routePath: string) => routePath.replace(/\{[^}]+\}/g, randomUUID());

async function call(
  service: string,
  method: string,
  routePath: string,
  { headers = {}, body }: { headers?: Record<string, string>; body?: string } = {},
) {
  const res = await fetch(`${urlOf(service)}${routePath}`, {
    method,
    headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as Body) : {},
  };
}

describe('every route needs a key', () => {
  it('finds the routes of every service', () => {
    expect(new Set(routes.map((route) => route.service))).toEqual(
      new Set(['task-api', 'ai-jobs', 'podcast-workers', 'batch-poller']),
    );
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining([
        'POST /tasks',
        'GET /podcasts/{id}',
        'POST /podcasts/schedule',
        'POST /episodes/check',
      ]),
    );
  });

  it.each(routes.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: 401 with WWW-Authenticate and the error body, for no key, an unknown key, and a bad body',
    async (_name, route) => {
      const attempts: { headers?: Record<string, string>; body?: string }[] = [
        {},
        { headers: { 'x-api-key': 'not-a-key' } },
        { headers: { authorization: 'Bearer not-a-key' } },
      ];
      if (route.method === 'POST') attempts.push({ body: '{"unexpected": [1, 2' }, { body: '{"title": 42}' });
      for (const attempt of attempts) {
        const res = await call(route.service, route.method, concrete(route.path), attempt);
        expect({ attempt, status: res.status }).toEqual({ attempt, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="offload"');
        expect(res.json).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      }
    },
  );

  it('lets only an operator key run the triggers that act on every podcast', async () => {
    for (const trigger of ['/podcasts/schedule', '/episodes/check']) {
      const denied = await call('podcast-workers', 'POST', trigger, { headers: ALICE });
      expect({ trigger, status: denied.status, code: denied.json.error?.code }).toEqual({
        trigger,
        status: 403,
        code: 'forbidden',
      });
      const allowed = await call('podcast-workers', 'POST', trigger, { headers: OPERATOR });
      expect({ trigger, status: allowed.status }).toEqual({ trigger, status: 202 });
    }
  });
});

describe("another caller's record is a 404, exactly like a missing one", () => {
  const json = (value: unknown) => JSON.stringify(value);

  async function expectOwnerOnly(service: string, collection: string, id: string) {
    const own = await call(service, 'GET', `${collection}/${id}`, { headers: ALICE });
    expect({ what: `${collection}/${id} for its owner`, status: own.status }).toEqual({
      what: `${collection}/${id} for its owner`,
      status: 200,
    });
    const other = await call(service, 'GET', `${collection}/${id}`, { headers: BOB });
    const missingId = randomUUID();
    const missing = await call(service, 'GET', `${collection}/${missingId}`, { headers: BOB });
    expect(other.status).toBe(404);
    expect(missing.status).toBe(404);
    // Same body but for the id it names: nothing tells "someone else's" from "never existed".
    expect(json(other.json).replaceAll(id, '<id>')).toBe(json(missing.json).replaceAll(missingId, '<id>'));
  }

  it('GET /tasks/{id}', async () => {
    const created = await call('task-api', 'POST', '/tasks', {
      headers: ALICE,
      body: json({ title: 'Mine', description: 'only mine', priority: 'low' }),
    });
    expect(created.status).toBe(202);
    await expectOwnerOnly('task-api', '/tasks', created.json.task_id!);
  });

  it('GET /jobs/{id}', async () => {
    const created = await call('ai-jobs', 'POST', '/jobs', {
      headers: ALICE,
      body: json({ type: 'completion', config: { prompt: 'mine' } }),
    });
    expect(created.status).toBe(202);
    await expectOwnerOnly('ai-jobs', '/jobs', created.json.job_id!);
  });

  it('GET /batch-jobs/{id}', async () => {
    const created = await call('batch-poller', 'POST', '/batch-jobs', {
      headers: ALICE,
      body: json({ items: [{ input: 'Summarise: mine.' }] }),
    });
    expect(created.status).toBe(202);
    await expectOwnerOnly('batch-poller', '/batch-jobs', created.json.job_id!);
    // Leave nothing active: other suites count the poller's work and reset the OpenAI stand-in.
    const lambdaUrl = process.env.BATCH_POLLER_LAMBDA_URL;
    if (!lambdaUrl)
      throw new Error('BATCH_POLLER_LAMBDA_URL is not set: the integration globalSetup did not run');
    await waitFor(
      'the batch job resolved',
      async () => {
        await invokeFunction(lambdaUrl, 'offload-batch-poller-test-pollBatches');
        const job = await call('batch-poller', 'GET', `/batch-jobs/${created.json.job_id!}`, {
          headers: ALICE,
        });
        return job.json.status === 'completed' || job.json.status === 'failed';
      },
      { intervalMs: 300 },
    );
  });

  it('GET /podcasts/{id}', async () => {
    const created = await call('podcast-workers', 'POST', '/podcasts', {
      headers: ALICE,
      // Not due for a year, so the podcast suites' scheduler runs never count it.
      body: json({
        title: 'Mine',
        frequency: 365,
        latest_episode_date: new Date().toISOString().slice(0, 10),
      }),
    });
    expect(created.status).toBe(201);
    expect(created.json).not.toHaveProperty('owner');
    await waitFor('the podcast to be readable', async () => {
      const res = await call('podcast-workers', 'GET', `/podcasts/${created.json.podcast_id!}`, {
        headers: ALICE,
      });
      return res.status === 200;
    });
    await expectOwnerOnly('podcast-workers', '/podcasts', created.json.podcast_id!);
  });
});

describe('CORS, as API Gateway answers it', () => {
  const services = ['task-api', 'ai-jobs', 'podcast-workers', 'batch-poller'];
  const preflight = (service: string, routePath: string, origin: string) =>
    fetch(`${urlOf(service)}${routePath}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-api-key',
      },
    });
  const firstPost = (service: string) =>
    routes.find((route) => route.service === service && route.method === 'POST')!.path;

  it.each(services)('%s: a preflight from the local page origin gets the allow headers', async (service) => {
    const res = await preflight(service, firstPost(service), PAGE_ORIGIN);
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
    expect(res.headers.get('access-control-allow-headers')).toContain('x-api-key');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it.each(services)('%s: a preflight from another origin gets no allow-origin', async (service) => {
    const res = await preflight(service, firstPost(service), OTHER_ORIGIN);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('adds allow-origin to a real response only for an allowed origin', async () => {
    const id = randomUUID();
    const allowed = await call('ai-jobs', 'GET', `/jobs/${id}`, {
      headers: { ...ALICE, origin: PAGE_ORIGIN },
    });
    expect(allowed.status).toBe(404);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(PAGE_ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('retry-after');
    const other = await call('ai-jobs', 'GET', `/jobs/${id}`, {
      headers: { ...ALICE, origin: OTHER_ORIGIN },
    });
    expect(other.status).toBe(404);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
