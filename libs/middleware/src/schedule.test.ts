import type { ScheduledEvent } from 'aws-lambda';
import { scheduled } from './schedule';
import { lambdaContext } from './testEvents';

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
});
