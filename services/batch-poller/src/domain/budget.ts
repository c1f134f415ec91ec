import { TooManyRequestsError, ValidationError } from '@offload/errors';
import type { Tier } from '@offload/messages';

export type { Tier };

/** Items (one provider call each) a caller may submit per UTC hour and per UTC day. */
export interface BudgetLimits {
  itemsPerHour: number;
  itemsPerDay: number;
}

export type TierBudgets = Record<Tier, BudgetLimits>;

/** The windows an item is counted in: its UTC day (`2026-12-03`) and the hour within it (0-23). */
export interface BudgetWindow {
  day: string;
  hour: number;
}

/** What a window held when a charge was refused. */
export interface BudgetUsage {
  day: number;
  hour: number;
}

/** Per-caller item counters, charged with one conditional write so two requests cannot both fit. */
export interface BudgetLedger {
  /** Adds `items` to both windows only if both stay within `limits`; else answers current usage. */
  charge(
    owner: string,
    window: BudgetWindow,
    items: number,
    limits: BudgetLimits,
  ): Promise<{ charged: true } | { charged: false; used: BudgetUsage }>;
  /** Gives back a charge whose job was never recorded. */
  refund(owner: string, window: BudgetWindow, items: number): Promise<void>;
}

/** The caller spent their item budget: 429 with Retry-After at the start of the window that frees it. */
export class BudgetExceededError extends TooManyRequestsError {
  override readonly code = 'budget_exceeded';
}

export function budgetWindow(now: Date): BudgetWindow {
  return { day: now.toISOString().slice(0, 10), hour: now.getUTCHours() };
}

/** Seconds until the window that blocks this request ends: the UTC day if the day is full, else the hour. */
export function retryAfterSeconds(now: Date, used: BudgetUsage, limits: BudgetLimits, items: number): number {
  const ms = now.getTime();
  const nextHour = Math.floor(ms / 3_600_000 + 1) * 3_600_000;
  const nextDay = Math.floor(ms / 86_400_000 + 1) * 86_400_000;
  const end = used.day + items > limits.itemsPerDay ? nextDay : nextHour;
  return Math.max(1, Math.ceil((end - ms) / 1000));
}

/**
 * Charges a new job's items to its owner's budget for their tier, before anything is recorded. A
 * job larger than a whole window could never fit, so it is refused as invalid rather than told to
 * retry.
 */
export async function chargeBudget(
  ledger: BudgetLedger,
  owner: string,
  limits: BudgetLimits,
  items: number,
  now: Date,
): Promise<BudgetWindow> {
  const cap = Math.min(limits.itemsPerHour, limits.itemsPerDay);
  if (items > cap) {
    throw new ValidationError([
      { field: 'items', message: `must hold at most ${cap} items for your tier's budget` },
    ]);
  }
  const window = budgetWindow(now);
  const charge = await ledger.charge(owner, window, items, limits);
  if (!charge.charged) {
    const wait = retryAfterSeconds(now, charge.used, limits, items);
    throw new BudgetExceededError(
      wait,
      `This job's ${items} items exceed your item budget (${limits.itemsPerHour} an hour, ` +
        `${limits.itemsPerDay} a day); retry in ${wait} s`,
    );
  }
  return window;
}
