import type { Clock } from '@offload/config';

/** A clock stopped at `iso`. */
export const fixedClock = (iso = '2026-11-24T12:00:30Z'): Clock => ({ now: () => new Date(iso) });

/** A clock that moves one second per reading, so timestamps are distinct and predictable. */
export function steppingClock(start = Date.parse('2026-11-24T12:00:00Z')): Clock {
  let tick = 0;
  return { now: () => new Date(start + 1000 * tick++) };
}
