import * as z from 'zod';
import { readRecords, type UnreadableRecord } from '../../src/domain/records';

describe('readRecords', () => {
  it('skips a record that fails its schema, reports its key (not its content) and answers the rest', () => {
    const schema = z.object({ id: z.string(), n: z.number() });
    const reported: UnreadableRecord[] = [];
    const parsed = readRecords(
      [
        { id: 'a', n: 1 },
        { id: 'b', n: 'secret prompt text' },
        { id: 'c', n: 3 },
      ],
      (raw) => schema.parse(raw),
      { table: 'items', keyOf: (raw) => ({ id: raw.id }) },
      (record) => reported.push(record),
    );
    expect(parsed).toEqual([
      { id: 'a', n: 1 },
      { id: 'c', n: 3 },
    ]);
    expect(reported).toEqual([
      { table: 'items', key: { id: 'b' }, reason: expect.stringContaining('ZodError') },
    ]);
    expect(reported[0]!.reason).not.toContain('secret prompt text');
  });
});
