import * as z from 'zod/mini';
import { PayloadTooLargeError, ValidationError } from '@offload/errors';
import { bodyLimit, rejectBody, requireBody, validateBody } from './httpBody';
import { httpEvent } from './testEvents';

type Before = (request: never) => Promise<unknown>;
const run = (middleware: { before?: unknown }, event: unknown) =>
  (middleware.before as Before)({ event } as never);
const withBody = (body: unknown, isBase64Encoded = false) => ({
  ...httpEvent(undefined),
  body,
  isBase64Encoded,
});
const problemsOf = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).details;
};

describe('bodyLimit', () => {
  it('passes a body at the limit and rejects one byte more, counting bytes not characters', async () => {
    await expect(run(bodyLimit(4), httpEvent('abcd'))).resolves.toBeUndefined();
    await expect(run(bodyLimit(4), httpEvent('abcde'))).rejects.toThrow(PayloadTooLargeError);
    await expect(run(bodyLimit(4), httpEvent('ééé'))).rejects.toThrow(PayloadTooLargeError);
  });

  it('counts the decoded bytes of a base64-encoded body', async () => {
    const encoded = Buffer.from('abcd').toString('base64'); // 8 characters for 4 bytes
    await expect(run(bodyLimit(4), withBody(encoded, true))).resolves.toBeUndefined();
    await expect(run(bodyLimit(4), withBody(Buffer.from('abcde').toString('base64'), true))).rejects.toThrow(
      PayloadTooLargeError,
    );
  });

  it('lets a request without a body through', async () => {
    await expect(run(bodyLimit(1), httpEvent(undefined))).resolves.toBeUndefined();
    await expect(run(bodyLimit(1), withBody(null))).resolves.toBeUndefined();
  });

  // The 500s of the bug report: an event whose body is a value rather than text crashed the byte
  // count with a TypeError. API Gateway never sends one; if anything does, it is the caller's 400.
  it.each([false, 0, -0, true, 1, {}, []])('refuses a body that is not text (%p) as a 400', async (body) => {
    expect(await problemsOf(run(bodyLimit(100), withBody(body)))).toEqual([
      { field: '(body)', message: 'must be JSON text' },
    ]);
  });
});

describe('requireBody', () => {
  it.each([undefined, null, ''])('names a missing or empty body (%p) as required', async (body) => {
    expect(await problemsOf(run(requireBody(), withBody(body)))).toEqual([
      { field: '(body)', message: 'is required' },
    ]);
  });

  it('lets any text through to the parser, base64 included', async () => {
    await expect(run(requireBody(), withBody('false'))).resolves.toBeUndefined();
    await expect(run(requireBody(), withBody('e30=', true))).resolves.toBeUndefined();
  });
});

describe('rejectBody', () => {
  it('lets a request without a body (or with an empty one) through', async () => {
    for (const body of [undefined, null, '']) {
      await expect(run(rejectBody(), withBody(body))).resolves.toBeUndefined();
    }
  });

  it.each([['{}'], ['false'], [' '], ['e30=']])(
    'refuses a body (%p) rather than ignoring it',
    async (body) => {
      expect(await problemsOf(run(rejectBody(), withBody(body, body === 'e30=')))).toEqual([
        { field: '(body)', message: 'must be empty: this endpoint takes no body' },
      ]);
    },
  );
});

describe('validateBody', () => {
  const schema = z.object({ n: z.coerce.number() });

  it('replaces the body with the parsed value', async () => {
    const event = { body: { n: '4' } };
    await run(validateBody(schema), event);
    expect(event.body).toEqual({ n: 4 });
  });

  it('throws a ValidationError naming the field', async () => {
    const error = await run(validateBody(schema), { body: { n: 'four' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details?.[0]?.field).toBe('n');
  });

  it('tells a field of the wrong type from a missing one', async () => {
    const strict = z.strictObject({ name: z.string(), size: z.number() });
    expect(await problemsOf(run(validateBody(strict), { body: { name: 5 } }))).toEqual([
      { field: 'name', message: 'must be a string' },
      { field: 'size', message: 'is required' },
    ]);
  });

  it.each([false, 0, null, 'text', []])(
    'answers a JSON value that is not an object (%p) by naming the body',
    async (body) => {
      expect(await problemsOf(run(validateBody(z.strictObject({ n: z.number() })), { body }))).toEqual([
        { field: '(body)', message: 'must be a JSON object' },
      ]);
    },
  );
});
