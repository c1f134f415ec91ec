import { canonicalBodyHash } from './bodyHash';

describe('canonicalBodyHash', () => {
  it('hashes bodies regardless of key order, and different bodies differently', () => {
    expect(canonicalBodyHash({ a: 1, b: [{ x: 1, y: 2 }] })).toBe(
      canonicalBodyHash({ b: [{ y: 2, x: 1 }], a: 1 }),
    );
    expect(canonicalBodyHash({ a: 1 })).not.toBe(canonicalBodyHash({ a: 2 }));
  });
});
