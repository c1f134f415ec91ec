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

type EnvelopeSchema = ReturnType<typeof envelope<string, string, z.ZodType>>;

/**
 * The one way to build a message of an envelope schema: `version` and `type` come from the schema,
 * so a sender cannot pair data with another version's tag, and an absent trace id or attempt is
 * left out rather than sent as undefined.
 */
export function buildEnvelope<Schema extends EnvelopeSchema>(
  schema: Schema,
  id: string,
  data: z.infer<Schema>['data'],
  metadata: { source: string; attempt?: number | undefined; traceId?: string | undefined },
): z.infer<Schema> {
  return {
    version: schema.shape.version.value,
    type: schema.shape.type.value,
    id,
    data,
    metadata: {
      source: metadata.source,
      ...(metadata.attempt !== undefined && { attempt: metadata.attempt }),
      ...(metadata.traceId && { traceId: metadata.traceId }),
    },
  } as z.infer<Schema>;
}
