import type { ScheduledEvent } from 'aws-lambda';
import { logger } from './logger';
import { recordCounts } from './metrics';
import { scheduled } from './schedule';
import { captureLogs, captureMetrics, lambdaContext } from './testEvents';

const tick = { 'detail-type': 'Scheduled Event', time: '2026-11-24T12:00:00Z' } as ScheduledEvent;

describe('scheduled', () => {
  it('returns what the handler returns', async () => {
    const handler = scheduled(async (event) => ({ at: event.time }));
    await expect(handler(tick, lambdaContext)).resolves.toEqual({ at: '2026-11-24T12:00:00Z' });
  });

  it('lets errors propagate so the invocation counts as failed', async () => {
    const handler = scheduled(async () => {
      throw new Error('provider down');
    });
    await expect(handler(tick, lambdaContext)).rejects.toThrow('provider down');
  });

  it('logs the invocation id as correlation_id and flushes the run metrics with the function name', async () => {
    const handler = scheduled(async () => {
      logger.info('Run done');
      recordCounts({ ThingsFound: 2, ThingsSent: 0 });
    });
    let flushed: Awaited<ReturnType<typeof captureMetrics>> = [];
    const lines = await captureLogs(async () => {
      flushed = await captureMetrics(() => handler(tick, lambdaContext));
    });
    expect(lines).toEqual([expect.objectContaining({ message: 'Run done', correlation_id: 'req-1' })]);
    expect(flushed).toEqual([
      expect.objectContaining({ ThingsFound: 2, ThingsSent: 0, function_name: 'fn' }),
    ]);
  });
});
