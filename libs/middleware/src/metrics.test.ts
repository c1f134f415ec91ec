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
