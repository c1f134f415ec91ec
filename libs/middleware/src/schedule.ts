import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { appendCorrelationId, logger } from './logger';
import { flushMetrics } from './metrics';

/**
 * The stack for EventBridge-scheduled functions: the same structured logger with the invocation
 * id on every line, also as `correlation_id` (the traceId of any message the run sends), and the
 * run's metrics flushed at its end. Errors propagate so the invocation counts as failed and the
 * alarm sees it.
 */
export function scheduled<Result>(handler: (event: ScheduledEvent, context: Context) => Promise<Result>) {
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(appendCorrelationId())
    .use(flushMetrics());
}
