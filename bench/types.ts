/** One line of the table: a figure and the baseline it is compared with, measured in the same run. */
export interface Row {
  group: string;
  name: string;
  value: number;
  unit: string;
  /** What the figure is compared with. */
  baseline: string;
  baselineValue: number;
  /** When the baseline counts something else (tasks/s against messages/s); defaults to `unit`. */
  baselineUnit?: string;
  /** value / baselineValue. Whether higher is better depends on the unit (a rate or a cost). */
  ratio: number;
  /** The individual measurements behind `value` and `baselineValue` (JSON only), to judge the noise. */
  samples?: number[];
  baselineSamples?: number[];
  /** What the figure is made of (JSON only), e.g. the cost rows' requests by service and action. */
  details?: Record<string, number>;
}

export interface BenchOptions {
  /** Smaller N everywhere: a smoke run, not a measurement. */
  quick: boolean;
  /** Progress lines (stderr), so the table on stdout stays the only output there. */
  log(line: string): void;
}

/** A row group: one module under bench/ exporting `run`, registered in bench/run.ts. */
export type RowGroup = (options: BenchOptions) => Promise<Row[]>;

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A row whose value and baseline are the medians of their samples. */
export function rowFromSamples(
  fields: Pick<Row, 'group' | 'name' | 'unit' | 'baseline' | 'baselineUnit'>,
  samples: number[],
  baselineSamples: number[],
): Row {
  const value = median(samples);
  const baselineValue = median(baselineSamples);
  return { ...fields, value, baselineValue, ratio: value / baselineValue, samples, baselineSamples };
}
