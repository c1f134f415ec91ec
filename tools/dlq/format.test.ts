import type { DlqMessage } from './domain';
import { formatDlqTable, formatPeek, formatRedriveResult, formatTable, preview } from './format';
import type { RedriveResult } from './sqs';

const message = (overrides: Partial<DlqMessage> = {}): DlqMessage => ({
  messageId: 'm-1',
  failureKind: 'poison',
  failureReason: 'PoisonMessageError: unknown version',
  receiveCount: 1,
  redriveCount: 0,
  sentAt: '2026-01-01T00:00:00.000Z',
  attributes: {},
  body: '{"v":9}',
  ...overrides,
});

describe('preview', () => {
  it('keeps short text on one line', () => {
    expect(preview('a\n\tb  c\u0000d')).toBe('a b c d');
  });

  it('cuts long text at the limit and says how long it was', () => {
    const text = 'p'.repeat(500);
    expect(preview(text)).toBe(`${'p'.repeat(200)}… (500 chars)`);
    expect(preview(text, 10)).toBe(`${'p'.repeat(10)}… (500 chars)`);
  });
});

describe('formatTable', () => {
  it('aligns columns under their headers', () => {
    expect(
      formatTable(
        ['A', 'LONGER'],
        [
          ['wide cell', 'x'],
          ['b', ''],
        ],
      ),
    ).toBe(['A          LONGER', 'wide cell  x', 'b'].join('\n'));
  });
});

describe('formatDlqTable', () => {
  it('lists each DLQ with depth and sources', () => {
    const table = formatDlqTable([
      { name: 'x-dlq', depth: 3, inFlight: 1, sources: ['x', 'y'] },
      { name: 'z-dlq.fifo', depth: 0, inFlight: 0, sources: [] },
    ]);
    expect(table.split('\n')).toEqual([
      'DLQ         DEPTH  IN FLIGHT  SOURCES',
      'x-dlq       3      1          x, y',
      'z-dlq.fifo  0      0          -',
    ]);
  });

  it('says so when there is none', () => {
    expect(formatDlqTable([])).toMatch(/No dead-letter queues/);
  });
});

describe('formatPeek', () => {
  it('shows id, kind, reason, receive count, sent time and a body preview', () => {
    const text = formatPeek('x-dlq', [message({ attributes: { trace_id: 'abc' } })], {
      depth: 1,
      fifo: false,
    });
    expect(text).toContain('x-dlq: showing 1 of ~1 message(s)');
    expect(text).toContain('1. id m-1  kind poison  receive_count 1  sent 2026-01-01T00:00:00.000Z');
    expect(text).toContain('reason  PoisonMessageError: unknown version');
    expect(text).toContain('attrs   trace_id=abc');
    expect(text).toContain('body    {"v":9}');
  });

  it('says how many redrives a message has been through, once it has been through one', () => {
    const once = formatPeek('x-dlq', [message({ redriveCount: 1 })], { depth: 1, fifo: false });
    expect(once).toContain('receive_count 1  redriven 1 time  sent');
    const twice = formatPeek('x-dlq', [message({ redriveCount: 2 })], { depth: 1, fifo: false });
    expect(twice).toContain('redriven 2 times');
    expect(formatPeek('x-dlq', [message()], { depth: 1, fifo: false })).not.toContain('redriven');
  });

  it('never prints a whole long body', () => {
    const prompt = `secret start ${'q'.repeat(1000)} secret end`;
    const text = formatPeek('x-dlq', [message({ body: prompt })], { depth: 1, fifo: false });
    expect(text).toContain('secret start');
    expect(text).not.toContain('secret end');
  });

  it('explains why a FIFO peek shows fewer messages than the queue holds', () => {
    const text = formatPeek('x-dlq.fifo', [message({ groupId: 'tasks' })], { depth: 3, fifo: true });
    expect(text).toContain('group tasks');
    expect(text).toMatch(/FIFO: only the first message/);
    expect(formatPeek('x-dlq', [message()], { depth: 3, fifo: false })).not.toMatch(/FIFO/);
  });
});

describe('formatRedriveResult', () => {
  const result = (overrides: Partial<RedriveResult> = {}): RedriveResult => ({
    method: 'receive-send-delete',
    destination: 'x',
    moved: 2,
    failed: 0,
    returned: 0,
    failures: [],
    ...overrides,
  });

  it('ends with how many moved and failed, and where to', () => {
    expect(formatRedriveResult(result())).toBe('moved 2, failed 0 -> x via receive-send-delete');
    expect(
      formatRedriveResult(
        result({
          method: 'move-task',
          taskHandle: 't-1',
          failed: 1,
          failures: [{ messageId: 'm', reason: 'r' }],
        }),
      ).split('\n'),
    ).toEqual(['failed m: r', 'moved 2, failed 1 -> x via move-task (task t-1)']);
  });

  it('says how many moved messages came back to the DLQ while it ran', () => {
    expect(formatRedriveResult(result({ returned: 1 }))).toBe(
      'moved 2, failed 0 -> x via receive-send-delete; 1 message came back to the DLQ while it ran and stayed there',
    );
  });
});
