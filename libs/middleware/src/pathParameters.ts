import * as z from 'zod/mini';
import { ValidationError } from '@offload/errors';

const uuid = z.uuid();

/** A path parameter that must be a UUID (every resource id here is one); 400 naming it otherwise. */
export function uuidPathParameter(
  event: { pathParameters?: Record<string, string | undefined> },
  name = 'id',
): string {
  const parsed = uuid.safeParse(event.pathParameters?.[name]);
  if (!parsed.success) throw new ValidationError([{ field: name, message: 'must be a UUID' }]);
  return parsed.data;
}
