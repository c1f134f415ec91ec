import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type * as z from 'zod';
import { bodyLimit, rejectBody, requireBody, validateBody } from './httpBody';
import { httpErrorMapper } from './httpErrors';
import { appendCorrelationId, logger } from './logger';
import type { JsonResult } from './response';

export interface HttpOptions<Body extends z.ZodType | undefined> {
  /** zod schema of the JSON body; omit for endpoints without a body (a body sent there is a 400). */
  body?: Body;
  /** Largest accepted body; every endpoint has one. */
  maxBodyBytes?: number;
  /** Allowed CORS origins; defaults to CORS_ORIGINS (comma-separated) or none. */
  corsOrigins?: string[];
}

export type HttpEvent<Body> = Omit<APIGatewayProxyEventV2, 'body'> & { body: Body };
export type HttpHandler<Body> = (event: HttpEvent<Body>, context: Context) => Promise<JsonResult>;

const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

function defaultOrigins(): string[] {
  return (process.env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

/**
 * The HTTP API stack every endpoint uses. Order matters: `before` runs top to bottom, `onError`
 * bottom to top, so the error mapper answers first and CORS and security headers still decorate
 * error responses. Every log line of the request carries `correlation_id` (see correlationIdOf),
 * the id a producer puts in its messages' traceId. Metrics are not flushed here: API Gateway's
 * own metrics count requests, and no HTTP path records custom metrics.
 */
export function httpApi<Body extends z.ZodType | undefined = undefined>(
  handler: HttpHandler<Body extends z.ZodType ? z.infer<Body> : undefined>,
  options: HttpOptions<Body> = {},
) {
  const stack = middy(
    handler as unknown as (event: APIGatewayProxyEventV2, context: Context) => Promise<JsonResult>,
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(appendCorrelationId())
    .use(httpHeaderNormalizer())
    .use(httpSecurityHeaders())
    .use(httpCors({ origins: options.corsOrigins ?? defaultOrigins(), credentials: false }))
    .use(httpErrorMapper())
    .use(bodyLimit(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  if (options.body) {
    stack.use(requireBody()).use(httpJsonBodyParser()).use(validateBody(options.body));
  } else {
    stack.use(rejectBody());
  }
  return stack;
}
