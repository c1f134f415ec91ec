import type middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod';
import { PayloadTooLargeError, ValidationError } from '@offload/errors';
import { toFieldProblems } from '@offload/messages';

/** Rejects bodies over the endpoint's limit before anything parses them. */
export function bodyLimit(maxBytes: number): middy.MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: async ({ event }) => {
      if (event.body === undefined || event.body === null) return;
      const bytes = event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').byteLength
        : Buffer.byteLength(event.body, 'utf8');
      if (bytes > maxBytes) throw new PayloadTooLargeError(maxBytes);
    },
  };
}

/** Validates the parsed JSON body with zod and replaces it with the parsed (sanitized) value. */
export function validateBody(schema: z.ZodType): middy.MiddlewareObj<{ body?: unknown }> {
  return {
    before: async ({ event }) => {
      const result = schema.safeParse(event.body);
      if (!result.success) throw new ValidationError(toFieldProblems(result.error));
      event.body = result.data;
    },
  };
}
