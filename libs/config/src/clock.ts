/**
 * Where domain code reads the time. Handlers pass `systemClock`; tests pass a fixed or stepping
 * clock (`@offload/testing/clock`), so timestamps in assertions are known in advance.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
