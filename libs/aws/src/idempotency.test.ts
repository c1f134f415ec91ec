import { canonicalBodyHash, idempotencyItemKey } from './idempotency';

describe('idempotency keys', () => {
  it('encodes each part, so a # in a user id or key cannot make two pairs share an item', () => {
    expect(idempotencyItemKey('batch-jobs', 'a#b', 'c')).not.toEqual(
      idempotencyItemKey('batch-jobs', 'a', 'b#c'),
    );
    expect(idempotencyItemKey('batch-jobs', 'a#b', 'c').pk).toBe('idem#batch-jobs#a%23b#c');
  });

  it('hashes bodies regardless of key order, and different bodies differently', () => {
    expect(canonicalBodyHash({ a: 1, b: [{ x: 1, y: 2 }] })).toBe(
      canonicalBodyHash({ b: [{ y: 2, x: 1 }], a: 1 }),
    );
    expect(canonicalBodyHash({ a: 1 })).not.toBe(canonicalBodyHash({ a: 2 }));
  });
});
