import {
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '@offload/errors';
import { httpErrorMapper } from './httpErrors';
import { lambdaContext } from './testEvents';

async function map(error: unknown) {
  const request = { error, context: lambdaContext, response: undefined as unknown } as never as {
    response: { statusCode: number; body: string; headers: Record<string, string> };
  };
  await (httpErrorMapper().onError as (r: unknown) => Promise<void>)(request);
  return {
    status: request.response.statusCode,
    headers: request.response.headers,
    body: JSON.parse(request.response.body),
  };
}

describe('httpErrorMapper', () => {
  it('returns a 4xx with its code, message and details', async () => {
    const mapped = await map(new ValidationError([{ field: 'title', message: 'is required' }]));
    expect(mapped).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          message: 'The request is invalid',
          details: [{ field: 'title', message: 'is required' }],
        },
      },
    });
  });

  it('answers a rate limit with 429 and Retry-After', async () => {
    const mapped = await map(new TooManyRequestsError(17));
    expect(mapped.status).toBe(429);
    expect(mapped.headers['retry-after']).toBe('17');
    expect(mapped.body.error.code).toBe('rate_limited');
  });

  it('gives each domain error its status at the edge, keeping its code and message', async () => {
    class JobFinishedError extends ConflictError {}
    const cases = [
      [new UnauthorizedError(), 401, 'unauthorized'],
      [new ForbiddenError(), 403, 'forbidden'],
      [new NotFoundError('Task 1 not found'), 404, 'not_found'],
      [new JobFinishedError('job_finished', 'Job 1 has already ended'), 409, 'job_finished'],
      [new PayloadTooLargeError(10), 413, 'payload_too_large'],
      [new UnsupportedMediaTypeError(), 415, 'unsupported_media_type'],
      [new IdempotencyKeyReusedError(), 422, 'idempotency_key_reused'],
    ] as const;
    for (const [error, status, code] of cases) {
      const mapped = await map(error);
      expect({ status: mapped.status, body: mapped.body }).toEqual({
        status,
        body: { error: { code, message: error.message } },
      });
    }
  });

  it('maps middy parser errors to our codes', async () => {
    const unsupported = Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, expose: true });
    expect((await map(unsupported)).body.error.code).toBe('unsupported_media_type');
    const notAllowed = Object.assign(new Error('Method Not Allowed'), { statusCode: 405, expose: true });
    expect(await map(notAllowed)).toMatchObject({
      status: 405,
      body: { error: { code: 'bad_request', message: 'Method Not Allowed' } },
    });
  });

  it('turns anything else into a generic 500 carrying only the request id', async () => {
    const mapped = await map(new TypeError('secret internals'));
    expect(mapped.status).toBe(500);
    expect(JSON.stringify(mapped.body)).not.toContain('secret');
    expect(mapped.body.error.request_id).toBe('req-1');
  });
});
