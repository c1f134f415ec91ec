import * as z from 'zod';
import { ConfigError } from '@offload/errors';

/**
 * Reads and validates environment variables once. Call it at module scope so a missing variable
 * fails the cold start with the variable's name instead of failing the first request.
 */
export function readConfig<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Common variable shapes, so every service spells them the same way. */
export const env = {
  name: () => z.string().min(1, 'is required'),
  int: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  flag: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1'),
};

export { systemClock, type Clock } from './clock';
