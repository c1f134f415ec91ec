import * as z from 'zod';

export const metadataSchema = z.object({
  source: z.string().min(1),
  attempt: z.number().int().nonnegative().optional(),
  traceId: z.string().min(1).max(128).optional(),
});

/**
 * Every queue message is `{ version, type, id, data, metadata }`. A schema is built per
 * (type, version) so a consumer lists exactly the versions it understands.
 */
export function envelope<Type extends string, Version extends string, Data extends z.ZodType>(
  type: Type,
  version: Version,
  data: Data,
) {
  return z.object({
    version: z.literal(version),
    type: z.literal(type),
    id: z.string().min(1).max(128),
    data,
    metadata: metadataSchema,
  });
}

export type Metadata = z.infer<typeof metadataSchema>;
