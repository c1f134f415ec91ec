import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo, ifConditionHolds, queryAll, takeRateToken, updateIfConditionHolds } from './dynamodb';

// The client's `send` is the network edge; everything above it is ours.
const send = jest.spyOn(dynamo, 'send');
afterEach(() => send.mockReset());

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('ifConditionHolds', () => {
  it('is true when the write applied and false when its condition no longer held', async () => {
    await expect(ifConditionHolds(Promise.resolve({}))).resolves.toBe(true);
    // A write that answers nothing (a put through a helper) applied all the same.
    await expect(ifConditionHolds(Promise.resolve(undefined))).resolves.toBe(true);
    await expect(ifConditionHolds(Promise.reject(conditionFailed()))).resolves.toBe(false);
  });

  it('lets every other error through', async () => {
    await expect(ifConditionHolds(Promise.reject(new Error('throttled')))).rejects.toThrow('throttled');
  });
});

describe('updateIfConditionHolds', () => {
  it('asks for the item as written and answers it, or undefined when the condition failed', async () => {
    send.mockResolvedValueOnce({ Attributes: { n: 2 } } as never);
    await expect(updateIfConditionHolds({ TableName: 't', Key: { pk: 'a' } })).resolves.toEqual({ n: 2 });
    expect((send.mock.calls[0]![0] as UpdateCommand).input.ReturnValues).toBe('ALL_NEW');
    send.mockRejectedValueOnce(conditionFailed() as never);
    await expect(updateIfConditionHolds({ TableName: 't', Key: { pk: 'a' } })).resolves.toBeUndefined();
  });
});

describe('queryAll', () => {
  const input: QueryCommandInput = { TableName: 't', KeyConditionExpression: 'pk = :pk' };
  const pages = [
    { Items: [{ n: 1 }, { n: 2 }], LastEvaluatedKey: { n: 2 } },
    { Items: [{ n: 3 }], LastEvaluatedKey: { n: 3 } },
    { Items: [{ n: 4 }] },
  ];

  it('follows LastEvaluatedKey until the last page', async () => {
    send.mockImplementation(async (command: unknown) => {
      const start = (command as QueryCommand).input.ExclusiveStartKey?.n as number | undefined;
      return pages[start === undefined ? 0 : start === 2 ? 1 : 2];
    });
    expect((await queryAll(input)).map((item) => item.n)).toEqual([1, 2, 3, 4]);
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('stops paging once it has `max` items', async () => {
    send.mockImplementation(async () => pages[0]);
    expect(await queryAll(input, 2)).toHaveLength(2);
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe('takeRateToken', () => {
  const now = new Date('2026-11-26T10:00:42Z');

  it('counts the request in the current minute for the subject', async () => {
    send.mockImplementation(async () => ({}));
    expect(await takeRateToken('controls', 'alice', 10, now)).toEqual({ allowed: true });
    const input = (send.mock.calls[0]?.[0] as { input: Record<string, unknown> }).input;
    expect(input.Key).toEqual({ pk: `rate#alice#${Date.parse('2026-11-26T10:00:00Z') / 1000}` });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':limit': 10 });
  });

  it('refuses once the window is full and says when the next one starts', async () => {
    send.mockImplementation(async () => {
      throw conditionFailed();
    });
    expect(await takeRateToken('controls', 'alice', 10, now)).toEqual({
      allowed: false,
      retryAfterSeconds: 18,
    });
  });
});
