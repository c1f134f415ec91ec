import { TooManyRequestsError, ValidationError } from '@offload/errors';
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

  it('maps middy parser errors to our codes', async () => {
    const unsupported = Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, expose: true });
    expect((await map(unsupported)).body.error.code).toBe('unsupported_media_type');
  });

  it('turns anything else into a generic 500 carrying only the request id', async () => {
    const mapped = await map(new TypeError('secret internals'));
    expect(mapped.status).toBe(500);
    expect(JSON.stringify(mapped.body)).not.toContain('secret');
    expect(mapped.body.error.request_id).toBe('req-1');
  });
});
