import { GetQueueUrlCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { isConditionFailure } from './dynamodb';
import { queueUrl, sendMessages, sqs } from './sqs';

// The client's `send` is the network edge; everything above it is ours.
const send = jest.spyOn(sqs, 'send');
afterEach(() => send.mockReset());

describe('queueUrl', () => {
  it('looks a queue up once and reuses the URL', async () => {
    send.mockImplementation(async () => ({ QueueUrl: 'http://q/cached' }));
    expect(await queueUrl('cached')).toBe('http://q/cached');
    expect(await queueUrl('cached')).toBe('http://q/cached');
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]?.[0]).toBeInstanceOf(GetQueueUrlCommand);
  });

  it('does not cache a failed lookup', async () => {
    send.mockImplementationOnce(async () => {
      throw new Error('throttled');
    });
    await expect(queueUrl('flaky')).rejects.toThrow('throttled');
    send.mockImplementation(async () => ({ QueueUrl: 'http://q/flaky' }));
    expect(await queueUrl('flaky')).toBe('http://q/flaky');
  });
});

describe('sendMessages', () => {
  it('sends in batches of 10 and reports per-entry failures by index', async () => {
    send.mockImplementation(async (command: unknown) => {
      if (command instanceof GetQueueUrlCommand) return { QueueUrl: 'http://q/batch' };
      const entries = (command as SendMessageBatchCommand).input.Entries ?? [];
      const failed = entries.filter((e) => e.Id === '13');
      return {
        Successful: entries.filter((e) => e.Id !== '13').map((e) => ({ Id: e.Id })),
        Failed: failed.map((e) => ({
          Id: e.Id,
          Code: 'Throttled',
          Message: 'slow down',
          SenderFault: false,
        })),
      };
    });
    const result = await sendMessages(
      'batch',
      Array.from({ length: 25 }, (_, i) => ({ body: `m${i}` })),
    );
    const batches = send.mock.calls.map(([c]) => c).filter((c) => c instanceof SendMessageBatchCommand);
    expect(batches.map((c) => (c as SendMessageBatchCommand).input.Entries?.length)).toEqual([10, 10, 5]);
    expect(result).toEqual({ sent: 24, failed: [{ index: 13, reason: 'Throttled: slow down' }] });
  });
});

describe('isConditionFailure', () => {
  it('recognises a lost conditional write by name', () => {
    expect(
      isConditionFailure(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' })),
    ).toBe(true);
    expect(isConditionFailure(new Error('x'))).toBe(false);
  });
});
