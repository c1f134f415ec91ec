import * as z from 'zod/mini';
import { INTERNAL_FAILURE } from '@offload/errors';

/** What a client sees of a failure: a stable code and a message written for them (publicFailureOf). */
export const publicFailureSchema = z.object({
  code: z.string().check(z.minLength(1), z.maxLength(64)),
  message: z.string().check(z.minLength(1), z.maxLength(1000)),
});
export type PublicFailureView = z.infer<typeof publicFailureSchema>;

/**
 * A record's stored `error`. Records written before errors were public hold the internal chain as a
 * string: that text is never shown, the generic internal failure is.
 */
export const storedFailureSchema = z.pipe(
  z.transform((value: unknown) => (typeof value === 'string' ? INTERNAL_FAILURE : value)),
  publicFailureSchema,
);
