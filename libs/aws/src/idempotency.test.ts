import { idempotencyItemKey } from './idempotency';

describe('idempotency keys', () => {
  it('encodes each part, so a # in a user id or key cannot make two pairs share an item', () => {
    expect(idempotencyItemKey('batch-jobs', 'a#b', 'c')).not.toEqual(
      idempotencyItemKey('batch-jobs', 'a', 'b#c'),
    );
    expect(idempotencyItemKey('batch-jobs', 'a#b', 'c').pk).toBe('idem#batch-jobs#a%23b#c');
  });
});
