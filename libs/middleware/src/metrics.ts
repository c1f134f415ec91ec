import type middy from '@middy/core';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { logger } from './logger';

/**
 * One metrics buffer per function: namespace `Offload`, dimensions `service` (from
 * POWERTOOLS_SERVICE_NAME) and `function_name` (added by the stacks). Metrics are written in the
 * Embedded Metric Format, as one JSON line in the function's log that CloudWatch turns into
 * metrics, so no role needs `cloudwatch:PutMetricData`. POWERTOOLS_METRICS_DISABLED=true (the
 * local runner, unit tests) keeps them out of the terminal; deployed stages leave it unset.
 */
export const metrics = new Metrics({ namespace: 'Offload', logger });

export { MetricUnit };

/** The function whose name is the default `function_name` dimension (one per execution environment). */
let dimensionedFor: string | undefined;

/**
 * Flushes the buffer at the end of every invocation, failed ones included (Powertools' logMetrics),
 * with the function's name as a dimension so each worker has its own series.
 */
export function flushMetrics(): middy.MiddlewareObj<unknown, unknown, Error, Context>[] {
  return [
    logMetrics(metrics) as middy.MiddlewareObj<unknown, unknown, Error, Context>,
    {
      before: ({ context }) => {
        if (context.functionName === dimensionedFor) return;
        metrics.setDefaultDimensions({ function_name: context.functionName });
        dimensionedFor = context.functionName;
      },
    },
  ];
}

/** Adds one Count metric per entry (a run's report, for instance); zeros are recorded too. */
export function recordCounts(counts: Record<string, number>): void {
  for (const [name, value] of Object.entries(counts)) metrics.addMetric(name, MetricUnit.Count, value);
}
