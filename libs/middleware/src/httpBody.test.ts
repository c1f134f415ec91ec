import * as z from 'zod';
import { PayloadTooLargeError, ValidationError } from '@offload/errors';
import { bodyLimit, validateBody } from './httpBody';
import { httpEvent } from './testEvents';

type Before = (request: never) => Promise<unknown>;
const run = (middleware: { before?: unknown }, event: unknown) =>
  (middleware.before as Before)({ event } as never);

describe('bodyLimit', () => {
  it('passes a body at the limit and rejects one byte more, counting bytes not characters', async () => {
    await expect(run(bodyLimit(4), httpEvent('abcd'))).resolves.toBeUndefined();
    await expect(run(bodyLimit(4), httpEvent('abcde'))).rejects.toThrow(PayloadTooLargeError);
    await expect(run(bodyLimit(4), httpEvent('ééé'))).rejects.toThrow(PayloadTooLargeError);
  });

  it('lets a request without a body through', async () => {
    await expect(run(bodyLimit(1), httpEvent(undefined))).resolves.toBeUndefined();
  });
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
});
