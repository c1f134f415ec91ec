import { BufferedMetrics, MetricUnit } from './metrics';

/** A buffer that prints nothing and keeps every EMF document it would print. */
function metricsUnderTest() {
  const metrics = new BufferedMetrics({ namespace: 'Test', serviceName: 'svc' });
  const printed: Record<string, unknown>[] = [];
  const publish = metrics.publishStoredMetrics.bind(metrics);
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    if (metrics.hasStoredMetrics()) printed.push(metrics.serializeMetrics() as Record<string, unknown>);
    return publish();
  });
  return { metrics, printed };
}

describe('BufferedMetrics', () => {
  it('writes buffered values into the same EMF document as Powertools metrics', () => {
    const { metrics, printed } = metricsUnderTest();
    metrics.addMetric('Sent', MetricUnit.Count, 1);
    metrics.addValue('Duration', MetricUnit.Milliseconds, 1.5);
    metrics.addValue('Duration', MetricUnit.Milliseconds, 2.5);
    metrics.addValue('Found', MetricUnit.Count, 0);
    expect(metrics.hasStoredMetrics()).toBe(true);
    metrics.publishStoredMetrics();

    expect(printed).toHaveLength(1);
    const [emf] = printed as [Record<string, unknown> & ReturnType<BufferedMetrics['serializeMetrics']>];
    expect(emf).toMatchObject({ Sent: 1, Duration: [1.5, 2.5], Found: 0, service: 'svc' });
    expect(emf._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'Sent', Unit: 'Count' },
      { Name: 'Duration', Unit: 'Milliseconds' },
      { Name: 'Found', Unit: 'Count' },
    ]);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it('appends buffered values to a Powertools metric of the same name, defined once', () => {
    const { metrics } = metricsUnderTest();
    metrics.addMetric('Duration', MetricUnit.Milliseconds, 1);
    metrics.addValue('Duration', MetricUnit.Milliseconds, 2);
    const emf = metrics.serializeMetrics() as Record<string, unknown> &
      ReturnType<BufferedMetrics['serializeMetrics']>;
    expect(emf.Duration).toEqual([1, 2]);
    expect(emf._aws.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: 'Duration', Unit: 'Milliseconds' }]);
  });

  it('flushes at 100 values of one metric, the most one EMF document may hold', () => {
    const { metrics, printed } = metricsUnderTest();
    for (let i = 0; i < 150; i++) metrics.addValue('Duration', MetricUnit.Milliseconds, i);
    metrics.publishStoredMetrics();
    expect(printed.map((emf) => (emf.Duration as number[]).length)).toEqual([100, 50]);
    expect(printed.flatMap((emf) => emf.Duration as number[])).toEqual(
      Array.from({ length: 150 }, (_, i) => i),
    );
  });

  it('clears buffered values with the rest', () => {
    const { metrics } = metricsUnderTest();
    metrics.addValue('Duration', MetricUnit.Milliseconds, 1);
    metrics.clearMetrics();
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});

describe('BufferedMetrics publishing', () => {
  /** An enabled buffer (unit tests disable metrics) and the JSON lines it writes to stdout. */
  function published() {
    const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const metrics = new BufferedMetrics({ namespace: 'Test', serviceName: 'svc' });
    if (disabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = disabled;
    const lines: Record<string, unknown>[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      return true;
    });
    return { metrics, lines };
  }
  afterEach(() => jest.restoreAllMocks());

  it('writes an invocation of buffered values only as Powertools serializes it', () => {
    const { metrics, lines } = published();
    metrics.setDefaultDimensions({ function_name: 'fn' });
    metrics.addValue('Duration', MetricUnit.Milliseconds, 1.5);
    metrics.addValue('Duration', MetricUnit.Milliseconds, 2.5);
    metrics.addValue('Found', MetricUnit.Count, 0);
    const expected = metrics.serializeMetrics();
    metrics.publishStoredMetrics();
    expect(lines).toEqual([{ ...expected, _aws: { ...expected._aws, Timestamp: expect.any(Number) } }]);
    expect(lines[0]).toMatchObject({ service: 'svc', function_name: 'fn', Duration: [1.5, 2.5], Found: 0 });
    expect(metrics.hasStoredMetrics()).toBe(false);
  });

  it("keeps an invocation's own dimensions, metadata and Powertools metrics to that invocation", () => {
    const { metrics, lines } = published();
    metrics.addValue('Found', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    metrics.addDimension('queue', 'q');
    metrics.addMetadata('note', 'n');
    metrics.addMetric('Sent', MetricUnit.Count, 1);
    metrics.addValue('Found', MetricUnit.Count, 2);
    metrics.publishStoredMetrics();
    metrics.addValue('Found', MetricUnit.Count, 3);
    metrics.publishStoredMetrics();
    metrics.setDefaultDimensions({ function_name: 'other' });
    metrics.addValue('Found', MetricUnit.Count, 4);
    metrics.publishStoredMetrics();

    expect(lines.map(({ _aws, ...fields }) => fields)).toEqual([
      { service: 'svc', Found: 1 },
      { service: 'svc', queue: 'q', note: 'n', Sent: 1, Found: 2 },
      { service: 'svc', Found: 3 },
      { service: 'svc', function_name: 'other', Found: 4 },
    ]);
    expect(lines.map(({ _aws }) => (_aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics)).toEqual([
      [{ Namespace: 'Test', Dimensions: [['service']], Metrics: [{ Name: 'Found', Unit: 'Count' }] }],
      [
        {
          Namespace: 'Test',
          Dimensions: [['service', 'queue']],
          Metrics: [
            { Name: 'Sent', Unit: 'Count' },
            { Name: 'Found', Unit: 'Count' },
          ],
        },
      ],
      [{ Namespace: 'Test', Dimensions: [['service']], Metrics: [{ Name: 'Found', Unit: 'Count' }] }],
      [
        {
          Namespace: 'Test',
          Dimensions: [['service', 'function_name']],
          Metrics: [{ Name: 'Found', Unit: 'Count' }],
        },
      ],
    ]);
  });
});
