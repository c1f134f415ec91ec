import { ValidationError } from '@offload/errors';
import { budgetWindow, chargeBudget, retryAfterSeconds, type BudgetLedger } from '../../src/domain/budget';

const limits = { itemsPerHour: 100, itemsPerDay: 300 };

describe('item budget', () => {
  it('counts in the UTC day and hour of the request', () => {
    expect(budgetWindow(new Date('2026-12-03T23:59:59.000Z'))).toEqual({ day: '2026-12-03', hour: 23 });
    expect(budgetWindow(new Date('2026-12-04T00:00:00.000Z'))).toEqual({ day: '2026-12-04', hour: 0 });
  });

  it('asks to retry at the next hour when the hour is full, at the next UTC day when the day is', () => {
    const now = new Date('2026-12-03T10:59:30.000Z');
    expect(retryAfterSeconds(now, { day: 150, hour: 95 }, limits, 10)).toBe(30);
    expect(retryAfterSeconds(now, { day: 295, hour: 5 }, limits, 10)).toBe(13 * 3600 + 30);
  });

  it('never asks to retry in less than a second', () => {
    expect(retryAfterSeconds(new Date('2026-12-03T10:59:59.999Z'), { day: 0, hour: 100 }, limits, 1)).toBe(1);
  });

  it('refuses a job larger than a whole window without touching the ledger', async () => {
    const charges: number[] = [];
    const ledger: BudgetLedger = {
      charge: async (_owner, _window, items) => {
        charges.push(items);
        return { charged: true };
      },
      refund: async () => undefined,
    };
    await expect(chargeBudget(ledger, 'alice', limits, 101, new Date())).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(charges).toEqual([]);
    await expect(
      chargeBudget(ledger, 'alice', limits, 100, new Date('2026-12-03T10:00:00Z')),
    ).resolves.toEqual({
      day: '2026-12-03',
      hour: 10,
    });
    expect(charges).toEqual([100]);
  });
});
