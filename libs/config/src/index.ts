import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { ConfigError } from '@offload/errors';

// zod/mini loads no locale: without English every default message would read "Invalid input".
// Set here because every function reads its configuration at cold start, before anything parses.
z.config(en());

/**
 * Reads and validates environment variables once. Call it at module scope so a missing variable
 * fails the cold start with the variable's name instead of failing the first request.
 */
export function readConfig<Shape extends z.core.$ZodShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodMiniObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

const int = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);

/** Common variable shapes, so every service spells them the same way. */
export const env = {
  name: () => z.string().check(z.minLength(1, 'is required')),
  int,
  flag: (fallback: boolean) =>
    z.pipe(
      z._default(z.enum(['true', 'false', '1', '0']), fallback ? 'true' : 'false'),
      z.transform((value) => value === 'true' || value === '1'),
    ),
  /** The OpenAI client's variables (model, retries of 0 to 10, timeout), with a worker's defaults. */
  openai: (defaults: { maxRetries: number; timeoutMs: number }) => ({
    OPENAI_MODEL: z._default(z.string().check(z.minLength(1)), 'gpt-4o-mini'),
    OPENAI_MAX_RETRIES: z._default(
      z.coerce.number().check(z.int(), z.gte(0), z.lte(10)),
      defaults.maxRetries,
    ),
    OPENAI_TIMEOUT_MS: int(defaults.timeoutMs),
  }),
};

export { systemClock, type Clock } from './clock';
