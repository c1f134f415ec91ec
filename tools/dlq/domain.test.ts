import type { Message } from '@aws-sdk/client-sqs';
import {
  bySentTime,
  chooseDestination,
  deadLetterSources,
  deadLetterTargetName,
  describeMessage,
  isDlqName,
  isMissingQueue,
  isUnsupportedAction,
  MessageCollector,
  originalMessageId,
  parseQueueRef,
  queueNameOf,
  redriveCountOf,
  redriveDeduplicationId,
  redriveInput,
  RedrivePlan,
} from './domain';

const str = (value: string) => ({ DataType: 'String', StringValue: value });

const deadLettered: Message = {
  MessageId: 'm-1',
  ReceiptHandle: 'r-1',
  Body: '{"task_id":"t-1"}',
  Attributes: { SentTimestamp: '1767225600000', MessageGroupId: 'tasks', ApproximateReceiveCount: '7' },
  MessageAttributes: {
    failure_kind: str('exhausted'),
    failure_reason: str('Error: boom'),
    source_message_id: str('src-1'),
    receive_count: str('3'),
    trace_id: str('abc'),
  },
};

describe('queue names', () => {
  it('recognises DLQs by suffix, standard and FIFO', () => {
    expect(isDlqName('offload-task-api-test-tasks-dlq.fifo')).toBe(true);
    expect(isDlqName('offload-ai-jobs-local-requests-dlq')).toBe(true);
    expect(isDlqName('offload-task-api-test-tasks.fifo')).toBe(false);
    expect(isDlqName('offload-dlq-consumer')).toBe(false);
  });

  it('takes the name from a URL or an ARN', () => {
    expect(queueNameOf('http://sqs.us-east-1.localhost:4566/000000000000/a-dlq.fifo')).toBe('a-dlq.fifo');
    expect(queueNameOf('arn:aws:sqs:us-east-1:123456789012:a-dlq')).toBe('a-dlq');
  });

  it('treats a URL argument as a URL and anything else as a name', () => {
    expect(parseQueueRef('https://sqs.eu-west-1.amazonaws.com/1/q-dlq')).toEqual({
      url: 'https://sqs.eu-west-1.amazonaws.com/1/q-dlq',
      name: 'q-dlq',
    });
    expect(parseQueueRef('q-dlq')).toEqual({ name: 'q-dlq' });
  });
});

describe('deadLetterSources', () => {
  const policy = (arn: string) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 3 });

  it('maps each DLQ to the queues whose RedrivePolicy names it, matched by name', () => {
    const sources = deadLetterSources([
      { name: 'b', url: 'u/b', redrivePolicy: policy('arn:aws:sqs:us-east-1:000000000000:x-dlq') },
      { name: 'a', url: 'u/a', redrivePolicy: policy('arn:aws:sqs:us-east-1:123456789012:x-dlq') },
      { name: 'c', url: 'u/c', redrivePolicy: policy('arn:aws:sqs:us-east-1:000000000000:y-dlq.fifo') },
      { name: 'plain', url: 'u/plain' },
      { name: 'broken', url: 'u/broken', redrivePolicy: '{not json' },
    ]);
    expect(Object.fromEntries(sources)).toEqual({ 'x-dlq': ['a', 'b'], 'y-dlq.fifo': ['c'] });
  });

  it('reads no target from a missing or malformed policy', () => {
    expect(deadLetterTargetName(undefined)).toBeUndefined();
    expect(deadLetterTargetName('{}')).toBeUndefined();
    expect(deadLetterTargetName('nope')).toBeUndefined();
  });
});

describe('chooseDestination', () => {
  it('prefers --to, then the only source', () => {
    expect(chooseDestination('x-dlq', 'elsewhere', ['x'])).toBe('elsewhere');
    expect(chooseDestination('x-dlq', undefined, ['x'])).toBe('x');
  });

  it('asks for --to when there is no source or more than one', () => {
    expect(() => chooseDestination('x-dlq', undefined, [])).toThrow(/--to/);
    expect(() => chooseDestination('x-dlq', undefined, ['a', 'b'])).toThrow(/2 source queues \(a, b\).*--to/);
  });
});

describe('isUnsupportedAction', () => {
  const error = (name: string, message: string, status = 400) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('recognises an endpoint without the action', () => {
    expect(isUnsupportedAction(error('InvalidAction', 'Unknown action: StartMessageMoveTask'))).toBe(true);
    expect(isUnsupportedAction(error('InternalFailure', 'whatever', 501))).toBe(true);
    expect(isUnsupportedAction(error('Error', 'API action not yet implemented'))).toBe(true);
  });

  it('does not mistake real failures for a missing action', () => {
    expect(isUnsupportedAction(error('AccessDenied', 'not authorized', 403))).toBe(false);
    expect(isUnsupportedAction(error('QueueDoesNotExist', 'The specified queue does not exist.'))).toBe(
      false,
    );
    expect(isUnsupportedAction('InvalidAction')).toBe(false);
  });
});

describe('isMissingQueue', () => {
  it('recognises both names SQS gives a missing queue', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    expect(isMissingQueue(named('QueueDoesNotExist'))).toBe(true);
    expect(isMissingQueue(named('AWS.SimpleQueueService.NonExistentQueue'))).toBe(true);
    expect(isMissingQueue(named('AccessDenied'))).toBe(false);
  });
});

describe('describeMessage', () => {
  it('pulls out the failure attributes and keeps the rest apart', () => {
    expect(describeMessage(deadLettered)).toEqual({
      messageId: 'm-1',
      failureKind: 'exhausted',
      failureReason: 'Error: boom',
      sourceMessageId: 'src-1',
      receiveCount: 3,
      redriveCount: 0,
      sentAt: '2026-01-01T00:00:00.000Z',
      groupId: 'tasks',
      attributes: { trace_id: 'abc' },
      body: '{"task_id":"t-1"}',
    });
  });

  it('shows the identity and redrive count of a message that failed again apart from its attributes', () => {
    const again = describeMessage({
      ...deadLettered,
      MessageAttributes: {
        ...deadLettered.MessageAttributes,
        original_message_id: str('first'),
        redrive_count: str('2'),
      },
    });
    expect(again).toMatchObject({
      originalMessageId: 'first',
      redriveCount: 2,
      attributes: { trace_id: 'abc' },
    });
  });

  it('leaves the failure fields empty for a message the redrive policy moved', () => {
    const described = describeMessage({ MessageId: 'm-2', Body: 'x' });
    expect(described).toMatchObject({ messageId: 'm-2', attributes: {}, body: 'x' });
    expect(described.failureKind).toBeUndefined();
    expect(described.receiveCount).toBeUndefined();
    expect(described.sentAt).toBeUndefined();
  });

  it('orders messages oldest first, undated last', () => {
    const at = (id: string, sentAt?: string) => ({ ...describeMessage({ MessageId: id }), sentAt });
    const sorted = bySentTime([at('c'), at('b', '2026-01-02T00:00:00Z'), at('a', '2026-01-01T00:00:00Z')]);
    expect(sorted.map((message) => message.messageId)).toEqual(['a', 'b', 'c']);
  });
});

describe('MessageCollector', () => {
  it('returns only messages it has not seen, by MessageId', () => {
    const collector = new MessageCollector();
    expect(collector.add([{ MessageId: '1' }, { MessageId: '2' }])).toHaveLength(2);
    expect(collector.add([{ MessageId: '2', ReceiptHandle: 'again' }, { MessageId: '3' }])).toEqual([
      { MessageId: '3' },
    ]);
    expect(collector.add(undefined)).toEqual([]);
    expect(collector.add([{ MessageId: '1' }])).toEqual([]);
    expect(collector.size).toBe(3);
    expect(collector.messages.map((message) => message.MessageId)).toEqual(['1', '2', '3']);
  });
});

describe('redriveInput', () => {
  it('keeps the body and user attributes, drops the failure attributes and counts the redrive', () => {
    expect(redriveInput(deadLettered, { url: 'http://q/std', fifo: false })).toEqual({
      QueueUrl: 'http://q/std',
      MessageBody: '{"task_id":"t-1"}',
      MessageAttributes: {
        trace_id: str('abc'),
        original_message_id: str('m-1'),
        redrive_count: str('1'),
      },
    });
  });

  it('keeps the identity a message carries and counts one more redrive', () => {
    const again: Message = {
      ...deadLettered,
      MessageId: 'm-2',
      MessageAttributes: {
        ...deadLettered.MessageAttributes,
        original_message_id: str('m-1'),
        redrive_count: str('1'),
      },
    };
    expect(redriveInput(again, { url: 'http://q/std', fifo: false }).MessageAttributes).toMatchObject({
      original_message_id: str('m-1'),
      redrive_count: str('2'),
    });
  });

  it('keeps the group and derives a stable deduplication id for a FIFO destination', () => {
    const first = redriveInput(deadLettered, { url: 'http://q/f.fifo', fifo: true });
    const retried = redriveInput(
      { ...deadLettered, ReceiptHandle: 'r-2' },
      { url: 'http://q/f.fifo', fifo: true },
    );
    expect(first).toMatchObject({ MessageGroupId: 'tasks', MessageDeduplicationId: 'redrive-m-1-1' });
    expect(retried.MessageDeduplicationId).toBe(first.MessageDeduplicationId);
  });

  it('gives the next redrive of a message that failed again a new deduplication id', () => {
    const failedAgain: Message = {
      ...deadLettered,
      MessageId: 'm-9',
      MessageAttributes: { original_message_id: str('m-1'), redrive_count: str('1') },
    };
    expect(redriveInput(failedAgain, { url: 'http://q/f.fifo', fifo: true }).MessageDeduplicationId).toBe(
      'redrive-m-1-2',
    );
  });

  it('gives a FIFO destination a group when the message had none, and sends no failure attributes', () => {
    const input = redriveInput(
      { MessageId: 'm-3', Body: 'b', MessageAttributes: { failure_kind: str('poison') } },
      { url: 'http://q/f.fifo', fifo: true },
    );
    expect(input.MessageGroupId).toBe('redrive');
    expect(Object.keys(input.MessageAttributes ?? {})).toEqual(['original_message_id', 'redrive_count']);
  });

  it('keeps binary attributes and drops list fields SQS does not accept', () => {
    const bytes = new Uint8Array([1, 2]);
    const input = redriveInput(
      {
        MessageId: 'm-4',
        Body: 'b',
        MessageAttributes: {
          blob: { DataType: 'Binary', BinaryValue: bytes, StringListValues: [], BinaryListValues: [] },
        },
      },
      { url: 'http://q/std', fifo: false },
    );
    expect(input.MessageAttributes?.blob).toEqual({ DataType: 'Binary', BinaryValue: bytes });
  });

  it('refuses a message without an id (it could not be deduplicated)', () => {
    expect(() => redriveInput({ Body: 'b' }, { url: 'http://q/f.fifo', fifo: true })).toThrow(/MessageId/);
  });
});

describe('message identity across redrives', () => {
  it('is the carried original id, else the message id', () => {
    expect(
      originalMessageId({ MessageId: 'm-2', MessageAttributes: { original_message_id: str('m-1') } }),
    ).toBe('m-1');
    expect(originalMessageId({ MessageId: 'm-2' })).toBe('m-2');
  });

  it('reads a missing or unreadable redrive count as none', () => {
    expect(redriveCountOf({ MessageAttributes: { redrive_count: str('3') } })).toBe(3);
    expect(redriveCountOf({})).toBe(0);
    expect(redriveCountOf({ MessageAttributes: { redrive_count: str('many') } })).toBe(0);
  });
});

describe('redriveDeduplicationId', () => {
  it('stays within the 128 characters SQS allows, keeping the count, and replaces characters it does not', () => {
    expect(redriveDeduplicationId('a b\u00e9', 1)).toBe('redrive-a_b_-1');
    const long = redriveDeduplicationId('x'.repeat(300), 12);
    expect(long).toHaveLength(128);
    expect(long.endsWith('x-12')).toBe(true);
  });
});

describe('RedrivePlan', () => {
  const message = (id: string, original?: string): Message => ({
    MessageId: id,
    ...(original && { MessageAttributes: { original_message_id: str(original) } }),
  });

  it('moves what the DLQ held at the start once each, then is done', () => {
    const plan = new RedrivePlan(2);
    expect(plan.next(message('a'))).toBe('move');
    expect(plan.done).toBe(false);
    expect(plan.next(message('b'))).toBe('move');
    expect(plan.done).toBe(true);
    expect(plan.next(message('c'))).toBe('beyond');
  });

  it('leaves a moved message that failed again and came back, however it is counted', () => {
    const plan = new RedrivePlan(3);
    expect(plan.next(message('a'))).toBe('move');
    expect(plan.next(message('a-again', 'a'))).toBe('returned');
    expect(plan.next(message('a-third', 'a'))).toBe('returned');
    expect(plan.returned).toBe(2);
    expect(plan.done).toBe(false);
    expect(plan.next(message('b', 'first-b'))).toBe('move');
  });

  it('recognises a second delivery of a message it already received', () => {
    const plan = new RedrivePlan(5);
    expect(plan.next(message('a'))).toBe('move');
    expect(plan.next(message('a'))).toBe('repeat');
    expect(plan.next({})).toBe('repeat');
    expect(plan.returned).toBe(0);
  });

  it('is done at once for an empty DLQ', () => {
    expect(new RedrivePlan(0).done).toBe(true);
  });
});
