import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { FieldProblem } from '@offload/errors';

// zod/mini loads no locale: without English every default message below would read "Invalid input"
// (and DEFAULT_TYPE_MESSAGE would never match). @offload/config sets the same at cold start.
z.config(en());

const ROOT = '(body)';

/**
 * Whether `path` names a value present in `input`. zod 4 leaves the input out of its issues, so
 * "missing" and "of the wrong type" can only be told apart from the input itself.
 */
function valueAt(input: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      return { present: false };
    }
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { present: current !== undefined, value: current };
}

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/** zod's own wording for a type mismatch; a schema's custom message is kept as written. */
const DEFAULT_TYPE_MESSAGE = /^Invalid input: expected /;

/**
 * zod issues as `{ field, message }`, the shape every 400 response and poison reason uses. Pass the
 * parsed input so a field of the wrong type is told apart from a missing one.
 */
export function toFieldProblems(error: z.core.$ZodError, input?: unknown): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String);
    const field = path.length > 0 ? path.join('.') : ROOT;
    if (issue.code === 'unrecognized_keys') {
      return {
        field: issue.keys.map((key) => [...path, key].join('.')).join(', '),
        message: 'is not an allowed field',
      };
    }
    if (issue.code === 'invalid_type') {
      const { present, value } = valueAt(input, issue.path);
      if (!present) return { field, message: 'is required' };
      if (path.length === 0 && issue.expected === 'object')
        return { field, message: 'must be a JSON object' };
      // JSON has no NaN, but 1e400 parses to Infinity.
      if (issue.expected === 'number' && typeof value === 'number')
        return { field, message: 'must be a finite number' };
      if (DEFAULT_TYPE_MESSAGE.test(issue.message))
        return { field, message: `must be ${article(issue.expected)}` };
    }
    return { field, message: issue.message };
  });
}
