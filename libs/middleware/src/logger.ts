import { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * One structured JSON logger per function. The service name comes from POWERTOOLS_SERVICE_NAME;
 * the stacks add the request id (HTTP) or message id (SQS) to every line, and `correlation_id`.
 */
export const logger = new Logger();

/**
 * The id that follows one piece of work from the invocation that started it (an HTTP request or a
 * scheduled run) through every queue to its final write: that invocation's Lambda request id.
 * Producers put it in each message's `metadata.traceId`, the HTTP and schedule stacks log it as
 * `correlation_id`, and the SQS stack logs a message's traceId under the same key. (API Gateway's
 * `requestContext.requestId` is not used: serverless-offline gives every request the same one.)
 */
export function correlationIdOf(context: Pick<Context, 'awsRequestId'>): string {
  return context.awsRequestId;
}

/** Appends `correlation_id` to every log line of the invocation (used after injectLambdaContext). */
export function appendCorrelationId(): middy.MiddlewareObj<unknown, unknown, Error, Context> {
  return { before: (request) => logger.setCorrelationId(correlationIdOf(request.context)) };
}

/** A message's `metadata.traceId`, when the envelope carries one. */
export function traceIdOf(message: unknown): string | undefined {
  const traceId = (message as { metadata?: { traceId?: unknown } } | null)?.metadata?.traceId;
  return typeof traceId === 'string' && traceId !== '' ? traceId : undefined;
}

export type { Logger };
