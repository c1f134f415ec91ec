import type middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { PayloadTooLargeError, ValidationError } from '@offload/errors';
import { toFieldProblems } from '@offload/messages';

type BodyEvent = Pick<APIGatewayProxyEventV2, 'isBase64Encoded'> & { body?: unknown };

const BODY = '(body)';

/**
 * The body's text as API Gateway delivers it: a string (base64 when `isBase64Encoded`), or absent.
 * Anything else is not an HTTP API event body, and is refused as a 400 rather than crashing the
 * byte count or the parser.
 */
function bodyBytes(event: BodyEvent): number | undefined {
  const { body } = event;
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'string') {
    throw new ValidationError([{ field: BODY, message: 'must be JSON text' }]);
  }
  return event.isBase64Encoded ? Buffer.from(body, 'base64').byteLength : Buffer.byteLength(body, 'utf8');
}

/** Rejects bodies over the endpoint's limit before anything parses them. */
export function bodyLimit(maxBytes: number): middy.MiddlewareObj<BodyEvent> {
  return {
    before: async ({ event }) => {
      const bytes = bodyBytes(event);
      if (bytes !== undefined && bytes > maxBytes) throw new PayloadTooLargeError(maxBytes);
    },
  };
}

/**
 * For endpoints with a body schema: a missing or empty body is a field problem of its own, named
 * the same way whether API Gateway omits the body or sends an empty one.
 */
export function requireBody(): middy.MiddlewareObj<BodyEvent> {
  return {
    before: async ({ event }) => {
      if (!bodyBytes(event)) throw new ValidationError([{ field: BODY, message: 'is required' }]);
    },
  };
}

/**
 * For endpoints that take no body: a body is refused (400) rather than ignored, so a client that
 * believes it is passing options learns at once that nothing reads them.
 */
export function rejectBody(): middy.MiddlewareObj<BodyEvent> {
  return {
    before: async ({ event }) => {
      if (bodyBytes(event)) {
        throw new ValidationError([{ field: BODY, message: 'must be empty: this endpoint takes no body' }]);
      }
    },
  };
}

/** Validates the parsed JSON body with zod and replaces it with the parsed (sanitized) value. */
export function validateBody(schema: z.ZodMiniType): middy.MiddlewareObj<{ body?: unknown }> {
  return {
    before: async ({ event }) => {
      const result = schema.safeParse(event.body);
      if (!result.success) throw new ValidationError(toFieldProblems(result.error, event.body));
      event.body = result.data;
    },
  };
}
