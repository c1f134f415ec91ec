import type middy from '@middy/core';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';
import type { Context } from 'aws-lambda';
import { logger } from './logger';

/** CloudWatch takes at most 100 values of one metric in an EMF document. */
const MAX_VALUES = 100;

type Emf = ReturnType<Metrics['serializeMetrics']>;

/**
 * Powertools' Metrics plus a plain buffer for the metrics the stacks record on every record.
 * Each `addMetric` validates its arguments and reads the environment several times (Powertools'
 * per-invocation store checks AWS_LAMBDA_MAX_CONCURRENCY on every access): about 0.9 µs a call
 * (measured by the bench), more than the rest of the SQS stack's work per record. `addValues`
 * keeps name, unit and values in an object and merges them into the same EMF document when
 * Powertools serializes it, so the output, the flush and every Powertools option stay the same.
 */
export class BufferedMetrics extends Metrics {
  #buffered = new Map<string, { unit: Unit; values: number[] }>();

  /** Records `value` under `name` without Powertools' per-call checks; `unit` must be a MetricUnit. */
  addValue(name: string, unit: Unit, value: number): void {
    let metric = this.#buffered.get(name);
    if (metric === undefined) this.#buffered.set(name, (metric = { unit, values: [] }));
    metric.values.push(value);
    // Powertools flushes at the same limit; a standard queue's batch can exceed it.
    if (metric.values.length >= MAX_VALUES) this.publishStoredMetrics();
  }

  override hasStoredMetrics(): boolean {
    return this.#buffered.size > 0 || super.hasStoredMetrics();
  }

  override serializeMetrics(): Emf {
    const emf = super.serializeMetrics();
    const document = emf as Record<string, unknown>;
    const definitions = emf._aws.CloudWatchMetrics[0]!.Metrics;
    for (const [name, { unit, values }] of this.#buffered) {
      const stored = document[name];
      if (stored === undefined) definitions.push({ Name: name, Unit: unit });
      const all = stored === undefined ? values : [...[stored as number | number[]].flat(), ...values];
      document[name] = all.length === 1 ? all[0] : all;
    }
    return emf;
  }

  override clearMetrics(): void {
    this.#buffered = new Map();
    super.clearMetrics();
  }
}

/**
 * One metrics buffer per function: namespace `Offload`, dimensions `service` (from
 * POWERTOOLS_SERVICE_NAME) and `function_name` (added by the stacks). Metrics are written in the
 * Embedded Metric Format, as one JSON line in the function's log that CloudWatch turns into
 * metrics, so no role needs `cloudwatch:PutMetricData`. POWERTOOLS_METRICS_DISABLED=true (the
 * local runner, unit tests) keeps them out of the terminal; deployed stages leave it unset.
 */
export const metrics = new BufferedMetrics({ namespace: 'Offload', logger });

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
  for (const [name, value] of Object.entries(counts)) metrics.addValue(name, MetricUnit.Count, value);
}
