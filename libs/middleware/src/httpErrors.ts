import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  ConflictError,
  ForbiddenError,
  IdempotencyKeyReusedError,
  NotFoundError,
  PayloadTooLargeError,
  RequestError,
  TooManyRequestsError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '@offload/errors';
import { correlationIdOf, logger } from './logger';
import { json, type JsonResult } from './response';

/**
 * A 4xx that only the HTTP layer knows (a middy parser error with its own status): request errors
 * from the domain carry no status, the edge gives them one (statusOf).
 */
export class HttpError extends RequestError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** Each request error's status; the first class a thrown error is an instance of wins. */
const STATUSES: ReadonlyArray<readonly [abstract new (...args: never[]) => RequestError, number]> = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [IdempotencyKeyReusedError, 422],
  [TooManyRequestsError, 429],
];

/** The status a request error answers with; one with no class of its own is a plain 400. */
export function statusOf(error: RequestError): number {
  if (error instanceof HttpError) return error.status;
  return STATUSES.find(([type]) => error instanceof type)?.[1] ?? 400;
}

/** Middy's own HTTP errors (from @middy/util createError) carry statusCode and expose. */
function isMiddyHttpError(error: unknown): error is Error & { statusCode: number; expose?: boolean } {
  return error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';
}

/** Maps middy's body-parser errors onto our hierarchy so every 4xx has one shape. */
function normalize(error: unknown): unknown {
  if (!isMiddyHttpError(error) || error.statusCode >= 500) return error;
  if (error.message === 'Unsupported Media Type') return new UnsupportedMediaTypeError();
  if (error.message === 'Invalid or malformed JSON was provided') {
    return new ValidationError([{ field: '(body)', message: 'is not valid JSON' }]);
  }
  // The parser refuses `__proto__` (and `constructor` with a `prototype`) anywhere in the body,
  // naming only the key: a field problem like any other, not a separate 422.
  if (error.message === 'Forbidden key in JSON body') {
    const key = (error.cause as { data?: unknown } | undefined)?.data;
    return new ValidationError([{ field: String(key ?? '(body)'), message: 'is not an allowed field' }]);
  }
  return new HttpError(error.statusCode, 'bad_request', error.message);
}

/**
 * The challenge a 401 names (RFC 9110): the key goes as a bearer token (or in x-api-key). An API
 * Gateway authorizer's 401 could not carry it, one reason the caller is identified here.
 */
export const WWW_AUTHENTICATE = 'Bearer realm="offload"';

function headersFor(error: RequestError): Record<string, string> {
  if (error instanceof TooManyRequestsError) return { 'retry-after': String(error.retryAfterSeconds) };
  if (error instanceof UnauthorizedError) return { 'www-authenticate': WWW_AUTHENTICATE };
  return {};
}

/**
 * The one HTTP error boundary: request errors (the domain's and the HTTP layer's alike) answer with
 * their status (statusOf), code, message and field details; anything else is logged with its cause chain and answered with a generic 500 and the request id (the
 * correlation id of its log lines), so internals never leak to callers.
 */
export function httpErrorMapper(): middy.MiddlewareObj<unknown, JsonResult, Error, Context> {
  return {
    onError: async (request) => {
      const error = normalize(request.error);
      if (error instanceof RequestError) {
        request.response = json(
          statusOf(error),
          {
            error: {
              code: error.code,
              message: error.message,
              ...(error.details && { details: error.details }),
            },
          },
          headersFor(error),
        );
        return;
      }
      const requestId = correlationIdOf(request.context);
      logger.error('Unhandled error', { error: request.error as Error });
      request.response = json(500, {
        error: { code: 'internal_error', message: 'Internal server error', request_id: requestId },
      });
    },
  };
}
