import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { describeError } from '@offload/errors';
import { logger } from './logger';
import { flushMetrics } from './metrics';

/** The parts of an API Gateway WebSocket event the routes read ($connect also has the query). */
export interface WebSocketEvent {
  requestContext: { connectionId: string; routeKey: string; eventType?: string };
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
}

export interface WebSocketResult {
  statusCode: number;
}

/**
 * The stack for WebSocket routes: the structured logger with the connection id on every line and
 * metrics flushed at the end. A route that throws answers 500 with nothing of the error in it
 * (API Gateway would otherwise turn it into a generic message to the client); the chain is logged.
 */
export function websocketRoute(
  handler: (event: WebSocketEvent, context: Context) => Promise<WebSocketResult>,
) {
  return middy(async (event: WebSocketEvent, context: Context): Promise<WebSocketResult> => {
    logger.appendKeys({
      connection_id: event.requestContext.connectionId,
      route: event.requestContext.routeKey,
    });
    try {
      return await handler(event, context);
    } catch (error) {
      logger.error('WebSocket route failed', { reason: describeError(error) });
      return { statusCode: 500 };
    }
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics());
}
