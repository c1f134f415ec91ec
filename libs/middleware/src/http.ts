import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { Caller } from '@offload/messages';
import { callersFromEnvironment, identify, requireOperator, type CallerSource } from './callers';
import corsPolicy from './cors.json';
import { bodyLimit, rejectBody, requireBody, validateBody } from './httpBody';
import { httpErrorMapper } from './httpErrors';
import { appendCorrelationId, logger } from './logger';
import type { JsonResult } from './response';

export interface HttpOptions<Body extends z.ZodMiniType | undefined> {
  /** zod schema of the JSON body; omit for endpoints without a body (a body sent there is a 400). */
  body?: Body;
  /** Largest accepted body; every endpoint has one. */
  maxBodyBytes?: number;
  /** Allowed CORS origins; defaults to CORS_ORIGINS (comma-separated) or none. */
  corsOrigins?: string[];
  /** The key table; defaults to API_KEYS_PARAM (SSM) or API_KEYS (see callersFromEnvironment). */
  callers?: CallerSource;
  /** `operator`: only keys with the operator role (403 for others), for triggers over every caller. */
  role?: 'operator';
}

export type HttpEvent<Body> = Omit<APIGatewayProxyEventV2, 'body'> & { body: Body; caller: Caller };
export type HttpHandler<Body> = (event: HttpEvent<Body>, context: Context) => Promise<JsonResult>;

const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/**
 * The CORS policy, one list for both sides: serverless/cors.cjs declares the same in every HTTP
 * API's CorsConfiguration (API Gateway answers preflights and replaces an integration's CORS
 * headers with its own), and this stack adds it to responses, so a direct invoke, the local stack
 * and AWS agree. No credentials: keys travel in headers, never cookies.
 */
export const CORS_POLICY = corsPolicy;

/**
 * The key table from the environment, configured on the first request rather than at import: a
 * module can hold a scheduled handler beside its HTTP one (the podcast triggers), and the scheduled
 * function has no key configuration. A missing configuration is a ConfigError naming the
 * variables, answered as a 500 and logged, never a request let through.
 */
function callersOnFirstRequest(): CallerSource {
  let source: CallerSource | undefined;
  return () => (source ??= callersFromEnvironment())();
}

function defaultOrigins(): string[] {
  return (process.env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}

/**
 * Identifies the caller from the request's key before anything reads the body, so a request
 * without a valid key is a 401 whatever it sends (never a 400 that describes the schema). The
 * caller goes to the handler as `event.caller` and onto every log line as `user_id`.
 */
function authenticate(
  source: CallerSource,
  role: HttpOptions<undefined>['role'],
): middy.MiddlewareObj<APIGatewayProxyEventV2 & { caller?: Caller }, JsonResult, Error, Context> {
  return {
    before: async (request) => {
      const caller = identify(await source(), request.event.headers ?? {});
      logger.appendKeys({ user_id: caller.userId });
      if (role === 'operator') requireOperator(caller);
      request.event.caller = caller;
    },
  };
}

/**
 * The HTTP API stack every endpoint uses. Order matters: `before` runs top to bottom, `onError`
 * bottom to top, so the error mapper answers first and CORS and security headers still decorate
 * error responses. The caller is known before the body is measured, parsed or validated. Every log
 * line of the request carries `correlation_id` (see correlationIdOf), the id a producer puts in its
 * messages' traceId. Metrics are not flushed here: API Gateway's own metrics count requests, and
 * no HTTP path records custom metrics.
 *
 * Why middleware and not an API Gateway Lambda authorizer: an authorizer's 401 cannot carry a
 * WWW-Authenticate header or our error body, it would be a second function (and a second cold
 * start) per request path, and serverless-offline runs authorizers differently from AWS; here the
 * same code answers on AWS, offline and in unit tests.
 */
export function httpApi<Body extends z.ZodMiniType | undefined = undefined>(
  handler: HttpHandler<Body extends z.ZodMiniType ? z.infer<Body> : undefined>,
  options: HttpOptions<Body> = {},
) {
  const callers = options.callers ?? callersOnFirstRequest();
  const stack = middy(
    handler as unknown as (event: APIGatewayProxyEventV2, context: Context) => Promise<JsonResult>,
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(appendCorrelationId())
    .use(httpHeaderNormalizer())
    .use(httpSecurityHeaders())
    .use(
      httpCors({
        origins: options.corsOrigins ?? defaultOrigins(),
        credentials: false,
        headers: CORS_POLICY.allowHeaders.join(','),
        methods: CORS_POLICY.allowMethods.join(','),
        exposeHeaders: CORS_POLICY.exposeHeaders.join(','),
        maxAge: CORS_POLICY.maxAgeSeconds,
      }),
    )
    .use(httpErrorMapper())
    .use(authenticate(callers, options.role))
    .use(bodyLimit(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  if (options.body) {
    stack.use(requireBody()).use(httpJsonBodyParser()).use(validateBody(options.body));
  } else {
    stack.use(rejectBody());
  }
  return stack;
}
