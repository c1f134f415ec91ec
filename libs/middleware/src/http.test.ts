import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { NotFoundError } from '@offload/errors';
import { NOT_AN_OBJECT_JSON } from '@offload/testing/badBodies';
import { httpApi } from './http';
import { correlationIdOf, logger } from './logger';
import { json } from './response';
import { captureLogs, httpEvent, lambdaContext, OPERATOR_KEY, TEST_KEY, testCallers } from './testEvents';

const schema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  size: z.number().check(z.int(), z.lte(10)),
});

function bodyOf(res: { body?: string }) {
  return JSON.parse(res.body ?? 'null');
}

describe('httpApi stack', () => {
  const seen: unknown[] = [];
  const handler = httpApi(
    async (event) => {
      seen.push(event.body);
      return json(202, { got: event.body.name, user: event.caller.userId });
    },
    { body: schema, maxBodyBytes: 64, corsOrigins: ['https://app.example'], callers: testCallers },
  );

  beforeEach(() => (seen.length = 0));

  it('hands the handler a parsed, validated body', async () => {
    const res = await handler(httpEvent('{"name":"x","size":1}'), lambdaContext);
    expect(res.statusCode).toBe(202);
    expect(bodyOf(res)).toEqual({ got: 'x', user: 'alice' });
    expect(seen).toEqual([{ name: 'x', size: 1 }]);
  });

  it('answers 400 listing every field problem, without calling the handler', async () => {
    const res = await handler(httpEvent('{"size":11,"extra":true}'), lambdaContext);
    expect(res.statusCode).toBe(400);
    const { error } = bodyOf(res);
    expect(error.code).toBe('validation_failed');
    expect(error.details.map((d: { field: string }) => d.field).sort()).toEqual(['extra', 'name', 'size']);
    expect(seen).toEqual([]);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await handler(httpEvent('{"name":'), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).error.details).toEqual([{ field: '(body)', message: 'is not valid JSON' }]);
  });

  // The bug report's bodies: every JSON text that is not an object is the caller's 400, and a JSON
  // string holding a valid body is a string, not that body.
  it.each([...NOT_AN_OBJECT_JSON, '"{\\"name\\":\\"x\\",\\"size\\":1}"'])(
    'answers 400 naming the body for the JSON scalar or array %s',
    async (body) => {
      const res = await handler(httpEvent(body), lambdaContext);
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error.details).toEqual([{ field: '(body)', message: 'must be a JSON object' }]);
      expect(seen).toEqual([]);
    },
  );

  it('answers 400 naming the body when there is none', async () => {
    for (const body of [undefined, '']) {
      const res = await handler(httpEvent(body), lambdaContext);
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error.details).toEqual([{ field: '(body)', message: 'is required' }]);
    }
  });

  it('answers 400 naming a __proto__ or constructor key, wherever it is', async () => {
    for (const [body, field] of [
      ['{"__proto__":{"size":1},"name":"x","size":1}', '__proto__'],
      ['{"name":"x","size":1,"nested":{"constructor":{"prototype":{}}}}', 'constructor'],
    ] as const) {
      const res = await handler(httpEvent(body), lambdaContext);
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error).toMatchObject({
        code: 'validation_failed',
        details: [{ field, message: 'is not an allowed field' }],
      });
    }
    expect(seen).toEqual([]);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await handler(
      httpEvent('name=x', { 'content-type': 'text/plain', 'x-api-key': TEST_KEY }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(415);
    expect(bodyOf(res).error.code).toBe('unsupported_media_type');
    expect(seen).toEqual([]);
  });

  it('answers 413 for a body over the limit, base64-encoded ones included', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(100), size: 1 });
    expect((await handler(httpEvent(big), lambdaContext)).statusCode).toBe(413);
    const encoded = httpEvent(Buffer.from(big).toString('base64'), undefined, { isBase64Encoded: true });
    expect((await handler(encoded, lambdaContext)).statusCode).toBe(413);
    expect(seen).toEqual([]);
  });

  it('adds security headers to successes and errors alike', async () => {
    for (const body of ['{"name":"x","size":1}', '{}']) {
      const res = await handler(httpEvent(body), lambdaContext);
      expect(res.headers).toMatchObject({
        'Strict-Transport-Security': expect.stringContaining('max-age'),
        'X-Content-Type-Options': 'nosniff',
      });
    }
  });

  it('allows CORS only for listed origins', async () => {
    const allowed = await handler(
      httpEvent('{"name":"x","size":1}', {
        'content-type': 'application/json',
        'x-api-key': TEST_KEY,
        origin: 'https://app.example',
      }),
      lambdaContext,
    );
    expect(allowed.headers?.['Access-Control-Allow-Origin']).toBe('https://app.example');
    const other = await handler(
      httpEvent('{"name":"x","size":1}', {
        'content-type': 'application/json',
        'x-api-key': TEST_KEY,
        origin: 'https://evil.example',
      }),
      lambdaContext,
    );
    expect(other.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('refuses a body on an endpoint that takes none, and runs it without one', async () => {
    const calls: unknown[] = [];
    const noBody = httpApi(
      async (event) => {
        calls.push(event.body);
        return json(202, { ran: true });
      },
      { callers: testCallers },
    );
    for (const body of ['{}', 'false', '{"force":true}']) {
      const res = await noBody(httpEvent(body), lambdaContext);
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).error.details).toEqual([
        { field: '(body)', message: 'must be empty: this endpoint takes no body' },
      ]);
    }
    expect(calls).toEqual([]);
    expect((await noBody(httpEvent(undefined), lambdaContext)).statusCode).toBe(202);
    expect(calls).toHaveLength(1);
  });

  it('maps a thrown 4xx error to its status and message', async () => {
    const notFound = httpApi(
      async () => {
        throw new NotFoundError('Task 1 not found');
      },
      { callers: testCallers },
    );
    const res = await notFound(httpEvent(undefined), lambdaContext);
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res)).toEqual({ error: { code: 'not_found', message: 'Task 1 not found' } });
  });

  it('hides internal errors behind a generic 500 with the request id', async () => {
    const broken = httpApi(
      async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
      },
      { callers: testCallers },
    );
    const res = await broken(httpEvent(undefined), lambdaContext);
    expect(res.statusCode).toBe(500);
    expect(bodyOf(res)).toEqual({
      error: { code: 'internal_error', message: 'Internal server error', request_id: 'req-1' },
    });
    expect(res.body).not.toContain('hunter2');
  });

  it("puts the invocation's correlation id on every log line of the request, and on a 500", async () => {
    const broken = httpApi(
      async () => {
        logger.info('Working');
        throw new Error('boom');
      },
      { callers: testCallers },
    );
    const invoke = (awsRequestId: string) =>
      broken(httpEvent(undefined), { awsRequestId, functionName: 'fn' } as Context);
    const responses: { body?: string }[] = [];
    const lines = await captureLogs(async () => {
      responses.push(await invoke('lambda-7'));
      responses.push(await invoke('lambda-8'));
    });
    // The Lambda request id, not API Gateway's (the event's requestContext.requestId is 'req-1').
    expect(lines.map((line) => [line.message, line.correlation_id])).toEqual([
      ['Working', 'lambda-7'],
      ['Unhandled error', 'lambda-7'],
      ['Working', 'lambda-8'],
      ['Unhandled error', 'lambda-8'],
    ]);
    expect(responses.map((res) => bodyOf(res).error.request_id)).toEqual(['lambda-7', 'lambda-8']);
    expect(correlationIdOf({ awsRequestId: 'lambda-7' })).toBe('lambda-7');
  });

  describe('caller identity', () => {
    it('answers 401 with a WWW-Authenticate challenge before reading the body, bad or too big', async () => {
      for (const body of ['{"name":"x","size":1}', '{"size":11}', '{"name":', 'x'.repeat(500)]) {
        for (const headers of [{}, { 'x-api-key': 'wrong' }, { authorization: 'Bearer wrong' }] as Record<
          string,
          string
        >[]) {
          const res = await handler(
            httpEvent(body, { 'content-type': 'application/json', ...headers }),
            lambdaContext,
          );
          expect(res.statusCode).toBe(401);
          expect(res.headers?.['www-authenticate']).toBe('Bearer realm="offload"');
          expect(bodyOf(res)).toEqual({
            error: { code: 'unauthorized', message: expect.stringContaining('x-api-key') },
          });
        }
      }
      expect(seen).toEqual([]);
    });

    it('takes the key as a bearer token too, and puts the caller on the log lines', async () => {
      const lines = await captureLogs(async () => {
        const whoami = httpApi(
          async (event) => {
            logger.info('Who');
            return json(200, event.caller);
          },
          { callers: testCallers },
        );
        const res = await whoami(
          httpEvent(undefined, { authorization: `Bearer ${TEST_KEY}` }),
          lambdaContext,
        );
        expect(bodyOf(res)).toEqual({ userId: 'alice', tier: 'free' });
      });
      expect(lines.find((line) => line.message === 'Who')?.user_id).toBe('alice');
    });

    it('lets only operator keys through an operator route (403 for others)', async () => {
      const trigger = httpApi(async () => json(202, { ran: true }), {
        callers: testCallers,
        role: 'operator',
      });
      const denied = await trigger(httpEvent(undefined), lambdaContext);
      expect(denied.statusCode).toBe(403);
      expect(bodyOf(denied).error.code).toBe('forbidden');
      const allowed = await trigger(httpEvent(undefined, { 'x-api-key': OPERATOR_KEY }), lambdaContext);
      expect(allowed.statusCode).toBe(202);
      expect((await trigger(httpEvent(undefined, {}), lambdaContext)).statusCode).toBe(401);
    });

    it('decorates a 401 with CORS headers for an allowed origin, so a browser can read it', async () => {
      const res = await handler(
        httpEvent('{}', { 'content-type': 'application/json', origin: 'https://app.example' }),
        lambdaContext,
      );
      expect(res.statusCode).toBe(401);
      expect(res.headers?.['Access-Control-Allow-Origin']).toBe('https://app.example');
      expect(res.headers?.['Access-Control-Expose-Headers']).toContain('www-authenticate');
    });

    it('answers 500 and logs the missing variables by name when no key configuration is set', async () => {
      const saved = { param: process.env.API_KEYS_PARAM, keys: process.env.API_KEYS };
      delete process.env.API_KEYS_PARAM;
      delete process.env.API_KEYS;
      try {
        // Built without complaint: a module may hold a scheduled handler beside this one.
        const unconfigured = httpApi(async () => json(200, { let: 'through' }));
        const lines = await captureLogs(async () => {
          const res = await unconfigured(httpEvent(undefined), lambdaContext);
          expect(res.statusCode).toBe(500);
          expect(res.body).not.toContain('through');
        });
        expect(JSON.stringify(lines)).toMatch(/ConfigError.*API_KEYS_PARAM/);
      } finally {
        if (saved.param !== undefined) process.env.API_KEYS_PARAM = saved.param;
        if (saved.keys !== undefined) process.env.API_KEYS = saved.keys;
      }
    });
  });
});
