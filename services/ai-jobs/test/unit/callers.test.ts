import { priorityOf } from '../../src/domain/callers';

describe('priorityOf', () => {
  it('gives paid callers high priority and everyone else normal', () => {
    expect(priorityOf({ userId: 'b', tier: 'paid' })).toBe('high');
    expect(priorityOf({ userId: 'a', tier: 'free' })).toBe('normal');
  });
});
