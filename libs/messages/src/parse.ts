import type * as z from 'zod/mini';
import { PoisonMessageError } from '@offload/errors';
import { toFieldProblems } from './problems';

/**
 * Parses a queue message body against the versions a consumer knows. Anything else (not JSON, an
 * unknown version or type, a body that fails its schema) can never succeed, so it is poison.
 */
export function parseMessage<Schema extends z.ZodMiniType>(body: string, schema: Schema): z.infer<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new PoisonMessageError('Message body is not JSON', { cause: error });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const problems = toFieldProblems(result.error, json)
      .map((p) => `${p.field} ${p.message}`)
      .join('; ');
    throw new PoisonMessageError(`Message does not match a known schema: ${problems}`);
  }
  return result.data;
}
