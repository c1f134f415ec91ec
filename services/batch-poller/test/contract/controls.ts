import type { BudgetLedger } from '../../src/domain/budget';
import type { BatchControls } from '../../src/domain/submit';

const LIMITS = { itemsPerHour: 10, itemsPerDay: 15 };
const DAY = '2026-11-24';

/**
 * What every BatchControls (its idempotency keys; its rate limit is the shared `takeRateToken`,
 * covered with ai-jobs' controls) and BudgetLedger do; the makers answer ones holding nothing.
 */
export function describeBatchControlsContract(
  name: string,
  makeControls: () => Promise<{ controls: BatchControls; budget: BudgetLedger }>,
) {
  describe(`BatchControls and BudgetLedger contract: ${name}`, () => {
    let controls: BatchControls;
    let budget: BudgetLedger;
    beforeEach(async () => {
      ({ controls, budget } = await makeControls());
    });

    it('claims a key once per caller: a second claim answers the first; a released key is free again', async () => {
      const first = { jobId: 'job-1', bodyHash: 'hash-1' };
      expect(await controls.claimIdempotencyKey('alice', 'key', first)).toBeUndefined();
      expect(await controls.claimIdempotencyKey('alice', 'key', { jobId: 'job-2', bodyHash: 'h' })).toEqual(
        first,
      );
      expect(await controls.claimIdempotencyKey('a#b', 'c', first)).toBeUndefined();
      expect(await controls.claimIdempotencyKey('a', 'b#c', first)).toBeUndefined();
      await controls.releaseIdempotencyKey('alice', 'key');
      expect(
        await controls.claimIdempotencyKey('alice', 'key', { jobId: 'job-3', bodyHash: 'h' }),
      ).toBeUndefined();
    });

    it('charges an hour and its day together, only while both stay within their limits', async () => {
      expect(await budget.charge('alice', { day: DAY, hour: 9 }, 8, LIMITS)).toEqual({ charged: true });
      expect(await budget.charge('alice', { day: DAY, hour: 9 }, 3, LIMITS)).toEqual({
        charged: false,
        used: { day: 8, hour: 8 },
      });
      expect(await budget.charge('alice', { day: DAY, hour: 9 }, 2, LIMITS)).toEqual({ charged: true });
      // A new hour starts empty, but the day keeps counting across hours.
      expect(await budget.charge('alice', { day: DAY, hour: 10 }, 6, LIMITS)).toEqual({
        charged: false,
        used: { day: 10, hour: 0 },
      });
      expect(await budget.charge('alice', { day: DAY, hour: 10 }, 5, LIMITS)).toEqual({ charged: true });
      expect(await budget.charge('alice', { day: '2026-11-25', hour: 0 }, 10, LIMITS)).toEqual({
        charged: true,
      });
      expect(await budget.charge('bob', { day: DAY, hour: 9 }, 10, LIMITS)).toEqual({ charged: true });
    });

    it('gives a refund back to the hour and day charged, and refunds nothing where nothing was charged', async () => {
      await budget.charge('alice', { day: DAY, hour: 9 }, 10, LIMITS);
      await budget.refund('alice', { day: DAY, hour: 9 }, 4);
      expect(await budget.charge('alice', { day: DAY, hour: 9 }, 5, LIMITS)).toEqual({
        charged: false,
        used: { day: 6, hour: 6 },
      });
      await budget.refund('carol', { day: DAY, hour: 9 }, 4);
      expect(await budget.charge('carol', { day: DAY, hour: 9 }, 11, LIMITS)).toEqual({
        charged: false,
        used: { day: 0, hour: 0 },
      });
    });
  });
}
