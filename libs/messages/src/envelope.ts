import * as z from 'zod/mini';

export const metadataSchema = z.object({
  source: z.string().check(z.minLength(1)),
  attempt: z.optional(z.number().check(z.int(), z.nonnegative())),
  traceId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});

/**
 * Every queue message is `{ version, type, id, data, metadata }`. A schema is built per
 * (type, version) so a consumer lists exactly the versions it understands.
 */
export function envelope<Type extends string, Version extends string, Data extends z.ZodMiniType>(
  type: Type,
  version: Version,
  data: Data,
) {
  return z.object({
    version: z.literal(version),
    type: z.literal(type),
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    data,
    metadata: metadataSchema,
  });
}

export type Metadata = z.infer<typeof metadataSchema>;

type EnvelopeSchema = ReturnType<typeof envelope<string, string, z.ZodMiniType>>;

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
    version: schema.shape.version._zod.def.values[0],
    type: schema.shape.type._zod.def.values[0],
    id,
    data,
    metadata: {
      source: metadata.source,
      ...(metadata.attempt !== undefined && { attempt: metadata.attempt }),
      ...(metadata.traceId && { traceId: metadata.traceId }),
    },
  } as z.infer<Schema>;
}
