import type * as z from 'zod';
import type { FieldProblem } from '@offload/errors';

/** zod issues as `{ field, message }`, the shape every 400 response and poison reason uses. */
export function toFieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    const field = path.length > 0 ? path.join('.') : '(body)';
    if (issue.code === 'unrecognized_keys') {
      return {
        field: issue.keys.map((key) => [...path, key].join('.')).join(', '),
        message: 'is not an allowed field',
      };
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return { field, message: 'is required' };
    }
    return { field, message: issue.message };
  });
}
