import type { Controls } from '../../src/domain/jobs';

// 12:00:30 UTC: 30 s into its minute, 30 min into its hour.
const NOW = new Date('2026-11-24T12:00:30Z');
const LATER_IN_MINUTE = new Date('2026-11-24T12:00:59Z');
const NEXT_MINUTE = new Date('2026-11-24T12:01:00Z');
const NEXT_HOUR = new Date('2026-11-24T13:00:00Z');

/** What every Controls does; `makeControls` answers controls that hold no claims or counts. */
export function describeControlsContract(name: string, makeControls: () => Promise<Controls>) {
  describe(`Controls contract: ${name}`, () => {
    let controls: Controls;
    beforeEach(async () => {
      controls = await makeControls();
    });

    it('claims a key once per caller: a second claim answers the first one', async () => {
      const first = { jobId: 'job-1', bodyHash: 'hash-1' };
      expect(await controls.claimIdempotencyKey('alice', 'key', first)).toBeUndefined();
      expect(await controls.claimIdempotencyKey('alice', 'key', { jobId: 'job-2', bodyHash: 'h' })).toEqual(
        first,
      );
      expect(
        await controls.claimIdempotencyKey('bob', 'key', { jobId: 'job-3', bodyHash: 'h' }),
      ).toBeUndefined();
    });

    it('keeps owner and key apart even when they hold the separator', async () => {
      expect(await controls.claimIdempotencyKey('a#b', 'c', { jobId: 'one', bodyHash: 'h' })).toBeUndefined();
      expect(await controls.claimIdempotencyKey('a', 'b#c', { jobId: 'two', bodyHash: 'h' })).toBeUndefined();
    });

    it('lets a released key be claimed again', async () => {
      await controls.claimIdempotencyKey('alice', 'key', { jobId: 'job-1', bodyHash: 'h' });
      await controls.releaseIdempotencyKey('alice', 'key');
      expect(
        await controls.claimIdempotencyKey('alice', 'key', { jobId: 'job-2', bodyHash: 'h' }),
      ).toBeUndefined();
      await controls.releaseIdempotencyKey('alice', 'never-claimed');
    });

    it('takes `limit` requests per caller per minute, then says when the next minute starts', async () => {
      expect(await controls.takeRateToken('alice', 2, NOW)).toEqual({ allowed: true });
      expect(await controls.takeRateToken('alice', 2, NOW)).toEqual({ allowed: true });
      expect(await controls.takeRateToken('alice', 2, NOW)).toEqual({
        allowed: false,
        retryAfterSeconds: 30,
      });
      expect(await controls.takeRateToken('alice', 2, LATER_IN_MINUTE)).toEqual({
        allowed: false,
        retryAfterSeconds: 1,
      });
      expect(await controls.takeRateToken('bob', 2, NOW)).toEqual({ allowed: true });
      expect(await controls.takeRateToken('alice', 2, NEXT_MINUTE)).toEqual({ allowed: true });
    });

    it('charges LLM calls only while the hour stays within the limit, all or nothing', async () => {
      expect(await controls.chargeLlmCalls('alice', 6, 10, NOW)).toEqual({ allowed: true });
      expect(await controls.chargeLlmCalls('alice', 5, 10, NOW)).toEqual({
        allowed: false,
        retryAfterSeconds: 3570,
      });
      expect(await controls.chargeLlmCalls('alice', 4, 10, NOW)).toEqual({ allowed: true });
      expect(await controls.chargeLlmCalls('alice', 1, 10, NOW)).toMatchObject({ allowed: false });
      expect(await controls.chargeLlmCalls('bob', 11, 10, NOW)).toMatchObject({ allowed: false });
      expect(await controls.chargeLlmCalls('bob', 10, 10, NOW)).toEqual({ allowed: true });
      expect(await controls.chargeLlmCalls('alice', 10, 10, NEXT_HOUR)).toEqual({ allowed: true });
    });

    it('gives a refunded charge back to the hour it was made in', async () => {
      await controls.chargeLlmCalls('alice', 8, 10, NOW);
      await controls.refundLlmCalls('alice', 5, NOW);
      expect(await controls.chargeLlmCalls('alice', 7, 10, NOW)).toEqual({ allowed: true });
      expect(await controls.chargeLlmCalls('alice', 1, 10, NOW)).toMatchObject({ allowed: false });
    });

    it('refunds nothing into an hour nothing was charged in', async () => {
      await controls.refundLlmCalls('alice', 5, NOW);
      expect(await controls.chargeLlmCalls('alice', 11, 10, NOW)).toMatchObject({ allowed: false });
      expect(await controls.chargeLlmCalls('alice', 10, 10, NOW)).toEqual({ allowed: true });
    });
  });
}
