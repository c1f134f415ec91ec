import type middy from '@middy/core';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Dimensions, MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';
import type { Context } from 'aws-lambda';
import { logger } from './logger';

/** CloudWatch takes at most 100 values of one metric in an EMF document. */
const MAX_VALUES = 100;

type Emf = ReturnType<Metrics['serializeMetrics']>;

/** What an EMF document holds besides the metrics: namespace, dimension names and values. */
interface Frame {
  namespace: string;
  dimensions: string[][];
  fields: Record<string, unknown>;
}

/**
 * Powertools' Metrics plus a plain buffer for the metrics the stacks record on every record.
 * Each `addMetric` validates its arguments and reads the environment several times (Powertools'
 * per-invocation store checks AWS_LAMBDA_MAX_CONCURRENCY on every access): about 0.9 µs a call
 * (measured by the bench), more than the rest of the SQS stack's work per record. `addValue`
 * keeps name, unit and values in an object and merges them into the same EMF document when
 * Powertools serializes it, so the output, the flush and every Powertools option stay the same.
 *
 * Publishing is the same trade: Powertools' publish reads its stores about a dozen times (each
 * read checks the environment), about 5 µs an invocation, half the SQS stack's cost on a batch of
 * 10. When an invocation recorded only buffered values (no Powertools metric, dimension, metadata
 * or timestamp of its own), the document is built from a frame (namespace and default dimensions)
 * that Powertools serialized once, and written to Powertools' own output; anything else goes
 * through Powertools' publish as before.
 */
export class BufferedMetrics extends Metrics {
  #buffered = new Map<string, { unit: Unit; values: number[] }>();
  // Plain fields, not #private: Powertools' constructor calls setDefaultDimensions before a
  // subclass's #fields exist. Initialised after it, to "nothing custom, no frame yet".
  private custom = false;
  private frame: Frame | undefined = undefined;

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

  override publishStoredMetrics(): this {
    if (this.custom || this.#buffered.size === 0 || this.isDisabled() || super.hasStoredMetrics()) {
      this.custom = false;
      return super.publishStoredMetrics();
    }
    const frame = (this.frame ??= this.#frame());
    const document: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: frame.namespace, Dimensions: frame.dimensions, Metrics: [] }],
      },
      ...frame.fields,
    };
    const definitions: { Name: string; Unit: Unit }[] = [];
    for (const [name, { unit, values }] of this.#buffered) {
      definitions.push({ Name: name, Unit: unit });
      document[name] = values.length === 1 ? values[0] : values;
    }
    (document._aws as { CloudWatchMetrics: { Metrics: unknown }[] }).CloudWatchMetrics[0]!.Metrics =
      definitions;
    this.#buffered = new Map();
    // Powertools' own output stream (a Console on stdout without the runtime's line prefix).
    (this as unknown as { console: Console }).console.log(JSON.stringify(document));
    return this;
  }

  /** Namespace and dimensions as Powertools serializes them with no metric in the document. */
  #frame(): Frame {
    const buffered = this.#buffered;
    this.#buffered = new Map();
    try {
      const { _aws, ...fields } = super.serializeMetrics();
      const [directive] = _aws.CloudWatchMetrics;
      return { namespace: directive!.Namespace, dimensions: directive!.Dimensions, fields };
    } finally {
      this.#buffered = buffered;
    }
  }

  override clearMetrics(): void {
    this.#buffered = new Map();
    super.clearMetrics();
  }

  // What makes an invocation's document differ from the frame: Powertools' publish handles it.
  override addDimension(name: string, value: string): this {
    this.custom = true;
    return super.addDimension(name, value);
  }

  override addDimensions(dimensions: Dimensions): this {
    this.custom = true;
    return super.addDimensions(dimensions);
  }

  override addMetadata(key: string, value: string): this {
    this.custom = true;
    return super.addMetadata(key, value);
  }

  override setTimestamp(timestamp: number | Date): this {
    this.custom = true;
    return super.setTimestamp(timestamp);
  }

  override setDefaultDimensions(dimensions: Dimensions): this {
    this.frame = undefined;
    return super.setDefaultDimensions(dimensions);
  }

  override clearDefaultDimensions(): void {
    this.frame = undefined;
    super.clearDefaultDimensions();
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

/** Adds the function's name as a dimension, so each worker has its own series (once per function). */
export function dimensionMetrics(context: Pick<Context, 'functionName'>): void {
  if (context.functionName === dimensionedFor) return;
  metrics.setDefaultDimensions({ function_name: context.functionName });
  dimensionedFor = context.functionName;
}

/**
 * Flushes the buffer at the end of every invocation, failed ones included (Powertools' logMetrics),
 * with the function's name as a dimension.
 */
export function flushMetrics(): middy.MiddlewareObj<unknown, unknown, Error, Context>[] {
  return [
    logMetrics(metrics) as middy.MiddlewareObj<unknown, unknown, Error, Context>,
    { before: ({ context }) => dimensionMetrics(context) },
  ];
}

/** Adds one Count metric per entry (a run's report, for instance); zeros are recorded too. */
export function recordCounts(counts: Record<string, number>): void {
  for (const name in counts) metrics.addValue(name, MetricUnit.Count, counts[name]!);
}
