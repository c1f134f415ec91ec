import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { sendMessage } from '@offload/aws/sqs';
import { envelope } from '@offload/messages';
import { sqsWorker } from './sqs';
import { captureLogs, captureMetrics, lambdaContext, sqsRecord } from './testEvents';

// The AWS edge only: sending to the DLQ is a network call.
jest.mock('@offload/aws/sqs', () => ({ sendMessage: jest.fn(async () => 'dlq-message-id') }));
const sendToDlq = jest.mocked(sendMessage);

const schema = envelope('thing.done', '1', z.object({ n: z.number() }));
const body = (n: number, traceId?: string) =>
  JSON.stringify({
    version: '1',
    type: 'thing.done',
    id: `m${n}`,
    data: { n },
    metadata: { source: 'test', ...(traceId && { traceId }) },
  });
const event = (...records: ReturnType<typeof sqsRecord>[]): SQSEvent => ({ Records: records });

function worker(options: { fifo?: boolean; fail?: (n: number) => boolean; dlqName?: string } = {}) {
  const calls: number[] = [];
  const handler = sqsWorker({
    schema,
    fifo: options.fifo,
    dlqName: options.dlqName ?? 'things-dlq',
    maxReceiveCount: 3,
    recordHandler: async (message, { log }) => {
      calls.push(message.data.n);
      if (options.fail?.(message.data.n)) throw new Error(`thing ${message.data.n} broke`);
      log.info('Thing handled', { n: message.data.n });
    },
  });
  return { calls, run: (e: SQSEvent) => handler(e, lambdaContext) };
}

beforeEach(() => sendToDlq.mockClear());

describe('sqsWorker (standard queue)', () => {
  it('reports exactly the failing records as batch item failures', async () => {
    const { run } = worker({ fail: (n) => n === 2 });
    const res = await run(event(sqsRecord('a', body(1)), sqsRecord('b', body(2)), sqsRecord('c', body(3))));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(sendToDlq).not.toHaveBeenCalled();
  });

  it('sends malformed and unknown-version messages to the DLQ at once, with the reason', async () => {
    const { run, calls } = worker();
    const unknownVersion = body(1).replace('"version":"1"', '"version":"2"');
    const res = await run(
      event(sqsRecord('a', 'not json'), sqsRecord('b', unknownVersion), sqsRecord('c', body(3))),
    );
    expect(res).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual([3]);
    expect(sendToDlq).toHaveBeenCalledTimes(2);
    for (const [, message] of sendToDlq.mock.calls) {
      expect(message.attributes).toMatchObject({ failure_kind: 'poison', receive_count: '1' });
      expect(message.attributes?.failure_reason).toMatch(/PoisonMessageError/);
    }
  });

  it('moves a record failing on its last allowed receive to the DLQ instead of reporting it', async () => {
    const { run } = worker({ fail: () => true });
    const res = await run(
      event(sqsRecord('a', body(1), { receiveCount: 2 }), sqsRecord('b', body(2), { receiveCount: 3 })),
    );
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
    expect(sendToDlq).toHaveBeenCalledTimes(1);
    expect(sendToDlq.mock.calls[0]?.[1]).toMatchObject({
      body: body(2),
      attributes: { failure_kind: 'exhausted', receive_count: '3', failure_reason: 'Error: thing 2 broke' },
    });
  });

  it("records a first failure's own message id as the identity a redrive carries", async () => {
    const { run } = worker();
    await run(event(sqsRecord('a', 'not json')));
    const attributes = sendToDlq.mock.calls[0]?.[1].attributes;
    expect(attributes).toMatchObject({ original_message_id: 'a', source_message_id: 'a' });
    expect(attributes).not.toHaveProperty('redrive_count');
  });

  it("keeps a redriven message's identity, redrive count and own attributes on its next dead letter", async () => {
    const { run } = worker();
    const redriven = {
      original_message_id: 'first',
      redrive_count: '1',
      trace_id: 't-1',
      failure_kind: 'exhausted',
    };
    await run(event(sqsRecord('b', 'not json', { messageAttributes: redriven })));
    expect(sendToDlq.mock.calls[0]?.[1].attributes).toEqual({
      original_message_id: 'first',
      redrive_count: '1',
      trace_id: 't-1',
      failure_kind: 'poison',
      failure_reason: expect.stringMatching(/PoisonMessageError/),
      source_message_id: 'b',
      receive_count: '1',
    });
  });

  it('stays within the 10 attributes SQS allows, keeping the failure and redrive ones first', async () => {
    const { run } = worker();
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`user_${i}`, String(i)]));
    await run(event(sqsRecord('c', 'not json', { messageAttributes: { ...many, redrive_count: '2' } })));
    const attributes = sendToDlq.mock.calls[0]?.[1].attributes ?? {};
    expect(Object.keys(attributes)).toHaveLength(10);
    expect(attributes).toMatchObject({
      failure_kind: 'poison',
      original_message_id: 'c',
      redrive_count: '2',
    });
  });

  it('reports the record as failed when the DLQ send itself fails, so nothing is lost', async () => {
    sendToDlq.mockRejectedValueOnce(new Error('DLQ unavailable'));
    const { run } = worker();
    const res = await run(event(sqsRecord('a', 'not json')));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
  });

  it('never logs a failing record body', async () => {
    const { run } = worker({ fail: () => true });
    const withPrompt = body(1).replace('"n":1', '"n":1,"prompt":"my private prompt"');
    const lines = await captureLogs(() => run(event(sqsRecord('a', withPrompt))));
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: 'Record failed; it stays on the queue for a retry',
        message_id: 'a',
      }),
    );
    expect(JSON.stringify(lines)).not.toContain('private prompt');
  });

  it("logs each message's traceId as correlation_id on every line about it", async () => {
    const { run } = worker({ fail: (n) => n === 2 });
    const lines = await captureLogs(() =>
      run(
        event(
          sqsRecord('a', body(1, 'trace-a')),
          sqsRecord('b', body(2, 'trace-b')),
          sqsRecord('c', body(3)),
        ),
      ),
    );
    const about = (id: string) => lines.filter((line) => line.message_id === id);
    expect(about('a').map((line) => [line.message, line.correlation_id])).toEqual([
      ['Thing handled', 'trace-a'],
    ]);
    expect(about('b').map((line) => [line.message, line.correlation_id])).toEqual([
      ['Record failed; it stays on the queue for a retry', 'trace-b'],
    ]);
    expect(about('c')).toEqual([expect.not.objectContaining({ correlation_id: expect.anything() })]);
  });

  it('counts a batch exactly: processed, failed for a retry, retried, dead-lettered, and each duration', async () => {
    const { run } = worker({ fail: (n) => n === 2 });
    const flushed = await captureMetrics(() =>
      run(
        event(
          sqsRecord('ok', body(1)),
          sqsRecord('retry', body(2), { receiveCount: 2 }),
          sqsRecord('poison', 'not json'),
        ),
      ),
    );
    expect(flushed).toHaveLength(1);
    const [emf] = flushed;
    expect(emf).toMatchObject({
      RecordsProcessed: 1,
      RecordsFailed: 1,
      RecordsRetried: 1,
      RecordsDeadLettered: 1,
      function_name: 'fn',
    });
    expect(emf?.RecordDuration).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    const [directive] = emf!._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe('Offload');
    expect(directive?.Dimensions).toEqual([['service', 'function_name']]);
    expect(directive?.Metrics).toContainEqual({ Name: 'RecordDuration', Unit: 'Milliseconds' });
    expect(directive?.Metrics).toContainEqual({ Name: 'RecordsDeadLettered', Unit: 'Count' });
  });

  it('counts a record whose DLQ send failed as failed, not dead-lettered', async () => {
    sendToDlq.mockRejectedValueOnce(new Error('DLQ unavailable'));
    const { run } = worker();
    const [emf] = await captureMetrics(() => run(event(sqsRecord('a', 'not json'))));
    expect(emf).toMatchObject({ RecordsProcessed: 0, RecordsFailed: 1, RecordsDeadLettered: 0 });
  });
});

describe('sqsWorker (FIFO queue)', () => {
  it('stops a group at its first failure and reports it and the rest of that group only', async () => {
    const { run, calls } = worker({ fifo: true, fail: (n) => n === 12 });
    let res: unknown;
    const [emf] = await captureMetrics(async () => {
      res = await run(
        event(
          sqsRecord('A1', body(11), { groupId: 'A' }),
          sqsRecord('B1', body(21), { groupId: 'B' }),
          sqsRecord('A2', body(12), { groupId: 'A' }),
          sqsRecord('A3', body(13), { groupId: 'A' }),
          sqsRecord('B2', body(22), { groupId: 'B' }),
        ),
      );
    });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'A2' }, { itemIdentifier: 'A3' }] });
    expect(calls.filter((n) => n < 20)).toEqual([11, 12]);
    expect(calls.filter((n) => n > 20)).toEqual([21, 22]);
    // The skipped A3 counts as failed (it stays on the queue) but was never attempted, so no duration.
    expect(emf).toMatchObject({ RecordsProcessed: 3, RecordsFailed: 2, RecordsDeadLettered: 0 });
    expect(emf?.RecordDuration).toHaveLength(4);
  });

  it('carries on with the group after moving an exhausted record to the DLQ', async () => {
    const { run, calls } = worker({ fifo: true, fail: (n) => n === 1, dlqName: 'things-dlq.fifo' });
    const res = await run(
      event(
        sqsRecord('a', body(1), { groupId: 'g', receiveCount: 3 }),
        sqsRecord('b', body(2), { groupId: 'g' }),
      ),
    );
    expect(res).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual([1, 2]);
    expect(sendToDlq.mock.calls[0]?.[1]).toMatchObject({ groupId: 'g', deduplicationId: 'a' });
  });
});

describe('sqsWorker record context', () => {
  it('tells each record how long its invocation has left, or Infinity where the runtime does not say', async () => {
    const seen: number[] = [];
    const handler = sqsWorker({
      schema,
      dlqName: 'things-dlq',
      maxReceiveCount: 3,
      recordHandler: async (_message, { remainingTimeMs }) => void seen.push(remainingTimeMs()),
    });
    await handler(event(sqsRecord('a', body(1))), { ...lambdaContext, getRemainingTimeInMillis: () => 1234 });
    await handler(event(sqsRecord('b', body(2))), lambdaContext);
    expect(seen).toEqual([1234, Number.POSITIVE_INFINITY]);
  });

  it('marks the delivery that reaches maxReceiveCount as the last attempt', async () => {
    const seen: Record<string, boolean> = {};
    const handler = sqsWorker({
      schema,
      dlqName: 'things-dlq',
      maxReceiveCount: 3,
      recordHandler: async (_message, { messageId, isLastAttempt }) => void (seen[messageId] = isLastAttempt),
    });
    const records = [1, 2, 3, 4].map((n) => sqsRecord(`r${n}`, body(n), { receiveCount: n }));
    await handler(event(...records), lambdaContext);
    expect(seen).toEqual({ r1: false, r2: false, r3: true, r4: true });
  });
});
