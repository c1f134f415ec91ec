// One namespace import: the fake dispatches on the same command classes the tool sends.
import * as sqs from '@aws-sdk/client-sqs';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DlqTool } from './sqs';

// An in-memory SQS behind the client's `send` (the network edge). Like fauxqs, it has neither
// ListDeadLetterSourceQueues nor StartMessageMoveTask unless a test says otherwise.
interface Stored {
  id: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  group?: string;
  hiddenUntilReceipt?: string;
}

class FakeSqs {
  queues = new Map<string, { attributes: Record<string, string>; messages: Stored[] }>();
  sends: sqs.SendMessageCommand['input'][] = [];
  failSendOf = new Set<string>();
  moveTasks = false;
  /** A consumer that fails every message sent to `queue` at once and dead-letters it as the worker does. */
  failingConsumer?: { queue: string; dlq: string };
  afterSend?: () => void;
  commands: unknown[] = [];
  private receipts = 0;

  add(name: string, attributes: Record<string, string> = {}) {
    this.queues.set(`http://fake/${name}`, {
      attributes: { QueueArn: `arn:aws:sqs:us-east-1:000000000000:${name}`, ...attributes },
      messages: [],
    });
  }

  put(name: string, id: string, body: string, group?: string, attributes: Record<string, string> = {}) {
    this.queue(`http://fake/${name}`).messages.push({
      id,
      body,
      group,
      attributes: Object.fromEntries(
        Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
      ),
    });
  }

  bodies(name: string) {
    return this.queue(`http://fake/${name}`).messages.map((message) => message.body);
  }

  /** Hides a message as if another reader held it. */
  holdElsewhere(name: string, id: string) {
    const message = this.queue(`http://fake/${name}`).messages.find((m) => m.id === id);
    if (message) message.hiddenUntilReceipt = 'elsewhere';
  }

  attributesOf(name: string) {
    return this.queue(`http://fake/${name}`).messages.map((message) =>
      Object.fromEntries(Object.entries(message.attributes).map(([key, value]) => [key, value.StringValue])),
    );
  }

  hidden(name: string) {
    return this.queue(`http://fake/${name}`).messages.filter((message) => message.hiddenUntilReceipt).length;
  }

  private queue(url: string) {
    const queue = this.queues.get(url);
    if (!queue)
      throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
    return queue;
  }

  private unsupported(action: string): never {
    throw Object.assign(new Error(`Unknown action: ${action}`), {
      name: 'InvalidAction',
      $metadata: { httpStatusCode: 400 },
    });
  }

  send = async (command: unknown): Promise<unknown> => {
    this.commands.push(command);
    if (command instanceof sqs.ListQueuesCommand) {
      const prefix = command.input.QueueNamePrefix ?? '';
      return { QueueUrls: [...this.queues.keys()].filter((url) => url.startsWith(`http://fake/${prefix}`)) };
    }
    if (command instanceof sqs.GetQueueUrlCommand) {
      const url = `http://fake/${command.input.QueueName}`;
      this.queue(url);
      return { QueueUrl: url };
    }
    if (command instanceof sqs.GetQueueAttributesCommand) {
      const queue = this.queue(command.input.QueueUrl!);
      const hidden = queue.messages.filter((message) => message.hiddenUntilReceipt).length;
      return {
        Attributes: {
          ...queue.attributes,
          ApproximateNumberOfMessages: String(queue.messages.length - hidden),
          ApproximateNumberOfMessagesNotVisible: String(hidden),
          ApproximateNumberOfMessagesDelayed: '0',
        },
      };
    }
    if (command instanceof sqs.ListDeadLetterSourceQueuesCommand)
      return this.unsupported('ListDeadLetterSourceQueues');
    if (command instanceof sqs.StartMessageMoveTaskCommand) {
      if (!this.moveTasks) return this.unsupported('StartMessageMoveTask');
      return { TaskHandle: 'task-1' };
    }
    if (command instanceof sqs.ListMessageMoveTasksCommand) {
      return {
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'COMPLETED',
            ApproximateNumberOfMessagesMoved: 2,
            ApproximateNumberOfMessagesToMove: 2,
          },
        ],
      };
    }
    if (command instanceof sqs.ReceiveMessageCommand) {
      const queue = this.queue(command.input.QueueUrl!);
      const fifo = queue.attributes.FifoQueue === 'true';
      const lockedGroups = new Set(queue.messages.filter((m) => m.hiddenUntilReceipt).map((m) => m.group));
      const out: Message[] = [];
      for (const message of queue.messages) {
        if (out.length >= (command.input.MaxNumberOfMessages ?? 1)) break;
        if (message.hiddenUntilReceipt) continue;
        if (fifo && lockedGroups.has(message.group)) continue;
        const receipt = `r${++this.receipts}`;
        if (command.input.VisibilityTimeout !== 0) message.hiddenUntilReceipt = receipt;
        if (fifo) lockedGroups.add(message.group);
        out.push({
          MessageId: message.id,
          ReceiptHandle: receipt,
          Body: message.body,
          MessageAttributes: message.attributes,
          Attributes: {
            SentTimestamp: '1767225600000',
            ...(message.group && { MessageGroupId: message.group }),
          },
        });
      }
      return { Messages: out.length > 0 ? out : undefined };
    }
    if (command instanceof sqs.ChangeMessageVisibilityBatchCommand) {
      const queue = this.queue(command.input.QueueUrl!);
      for (const entry of command.input.Entries ?? []) {
        const message = queue.messages.find((m) => m.hiddenUntilReceipt === entry.ReceiptHandle);
        if (message) delete message.hiddenUntilReceipt;
      }
      return { Successful: command.input.Entries?.map(({ Id }) => ({ Id })), Failed: [] };
    }
    if (command instanceof sqs.SendMessageCommand) {
      if (this.failSendOf.has(command.input.MessageBody!)) throw new Error('throttled');
      this.sends.push(command.input);
      this.afterSend?.();
      const id = `new-${this.sends.length}`;
      const consumer = this.failingConsumer;
      if (consumer && command.input.QueueUrl === `http://fake/${consumer.queue}`) {
        // What libs/middleware's worker does with a poison message: a new message, same identity.
        const attributes = command.input.MessageAttributes ?? {};
        this.queue(`http://fake/${consumer.dlq}`).messages.push({
          id: `dead-${id}`,
          body: command.input.MessageBody!,
          group: command.input.MessageGroupId,
          attributes: {
            ...attributes,
            failure_kind: { DataType: 'String', StringValue: 'poison' },
            original_message_id: attributes.original_message_id ?? { DataType: 'String', StringValue: id },
          },
        });
        return { MessageId: id };
      }
      const queue = this.queue(command.input.QueueUrl!);
      queue.messages.push({
        id,
        body: command.input.MessageBody!,
        group: command.input.MessageGroupId,
        attributes: command.input.MessageAttributes ?? {},
      });
      return { MessageId: id };
    }
    if (command instanceof sqs.DeleteMessageCommand) {
      const queue = this.queue(command.input.QueueUrl!);
      queue.messages = queue.messages.filter((m) => m.hiddenUntilReceipt !== command.input.ReceiptHandle);
      return {};
    }
    throw new Error(`The fake does not know ${(command as object).constructor.name}`);
  };
}

function setup() {
  const fake = new FakeSqs();
  const client = new sqs.SQSClient({ region: 'us-east-1' });
  jest.spyOn(client, 'send').mockImplementation(fake.send as never);
  const log: string[] = [];
  return { fake, tool: new DlqTool(client, (line) => log.push(line)), log };
}

const failure = {
  failure_kind: 'exhausted',
  failure_reason: 'Error: boom',
  receive_count: '3',
  source_message_id: 's',
};
const policy = (dlq: string) =>
  JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${dlq}`, maxReceiveCount: 3 });

describe('DlqTool.list', () => {
  it('finds the DLQs with depth and derives sources from redrive policies when the endpoint cannot list them', async () => {
    const { fake, tool } = setup();
    fake.add('offload-a-dlq');
    fake.add('offload-a', { RedrivePolicy: policy('offload-a-dlq') });
    fake.add('offload-b-dlq.fifo', { FifoQueue: 'true' });
    fake.add('other-c-dlq');
    fake.put('offload-a-dlq', '1', 'one');
    fake.put('offload-a-dlq', '2', 'two');
    expect(await tool.list('offload-')).toEqual([
      { name: 'offload-a-dlq', depth: 2, inFlight: 0, sources: ['offload-a'] },
      { name: 'offload-b-dlq.fifo', depth: 0, inFlight: 0, sources: [] },
    ]);
  });
});

describe('DlqTool.peek', () => {
  it('reads every message once, however many receives it takes, and leaves them all visible', async () => {
    const { fake, tool } = setup();
    fake.add('q-dlq');
    for (let i = 1; i <= 13; i++) fake.put('q-dlq', String(i), `m${i}`);
    const peeked = await tool.peek(await tool.queue('q-dlq'), 20);
    expect(peeked.map((message) => message.Body)).toEqual(fake.bodies('q-dlq'));
    expect(fake.hidden('q-dlq')).toBe(0);
    expect(fake.bodies('q-dlq')).toHaveLength(13);
  });

  it('stops at --max', async () => {
    const { fake, tool } = setup();
    fake.add('q-dlq');
    for (let i = 1; i <= 5; i++) fake.put('q-dlq', String(i), `m${i}`);
    expect(await tool.peek(await tool.queue('q-dlq'), 2)).toHaveLength(2);
    expect(fake.hidden('q-dlq')).toBe(0);
  });
});

describe('DlqTool.redrive', () => {
  it('falls back to receive/send/delete, strips the failure attributes and empties the DLQ', async () => {
    const { fake, tool, log } = setup();
    fake.add('w-dlq');
    fake.add('w', { RedrivePolicy: policy('w-dlq') });
    fake.put('w-dlq', '1', 'one', undefined, { ...failure, trace_id: 't1' });
    fake.put('w-dlq', '2', 'two', undefined, failure);
    const dlq = await tool.queue('w-dlq');
    const result = await tool.redrive(dlq, await tool.destination(dlq, undefined, ''));
    expect(result).toMatchObject({ method: 'receive-send-delete', destination: 'w', moved: 2, failed: 0 });
    expect(fake.bodies('w-dlq')).toEqual([]);
    expect(fake.bodies('w')).toEqual(['one', 'two']);
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    expect(fake.sends[0]?.MessageAttributes).toEqual({
      trace_id: text('t1'),
      original_message_id: text('1'),
      redrive_count: text('1'),
    });
    expect(fake.sends[1]?.MessageAttributes).toEqual({
      original_message_id: text('2'),
      redrive_count: text('1'),
    });
    expect(log.join('\n')).toMatch(/no StartMessageMoveTask/);
  });

  it('keeps a message whose send failed in the DLQ, visible again, and moves the others', async () => {
    const { fake, tool } = setup();
    fake.add('w-dlq');
    fake.add('w');
    fake.put('w-dlq', '1', 'one');
    fake.put('w-dlq', '2', 'bad');
    fake.put('w-dlq', '3', 'three');
    fake.failSendOf.add('bad');
    const result = await tool.redrive(await tool.queue('w-dlq'), await tool.queue('w'));
    expect(result).toMatchObject({
      moved: 2,
      failed: 1,
      failures: [{ messageId: '2', reason: /throttled/ }],
    });
    expect(fake.bodies('w-dlq')).toEqual(['bad']);
    expect(fake.hidden('w-dlq')).toBe(0);
    expect(fake.bodies('w')).toEqual(['one', 'three']);
  });

  it('FIFO: keeps groups and order, deduplicates by identity and redrive, and stops a group at its first failure', async () => {
    const { fake, tool } = setup();
    const fifo = { FifoQueue: 'true' };
    fake.add('t-dlq.fifo', fifo);
    fake.add('t.fifo', fifo);
    fake.put('t-dlq.fifo', 'a1', 'a1', 'a');
    fake.put('t-dlq.fifo', 'b1', 'b1', 'b');
    fake.put('t-dlq.fifo', 'a2', 'a2-bad', 'a');
    fake.put('t-dlq.fifo', 'a3', 'a3', 'a');
    fake.put('t-dlq.fifo', 'b2', 'b2', 'b');
    fake.failSendOf.add('a2-bad');
    const result = await tool.redrive(await tool.queue('t-dlq.fifo'), await tool.queue('t.fifo'));
    expect(result).toMatchObject({ moved: 3, failed: 1 });
    expect(fake.bodies('t.fifo')).toEqual(['a1', 'b1', 'b2']);
    expect(fake.sends.map((send) => [send.MessageGroupId, send.MessageDeduplicationId])).toEqual([
      ['a', 'redrive-a1-1'],
      ['b', 'redrive-b1-1'],
      ['b', 'redrive-b2-1'],
    ]);
    // a2 failed and a3 stayed behind it: both still in the DLQ, in order, visible.
    expect(fake.bodies('t-dlq.fifo')).toEqual(['a2-bad', 'a3']);
    expect(fake.hidden('t-dlq.fifo')).toBe(0);
  });

  it('moves a message that fails again once, ends, and leaves it in the DLQ counted as redriven', async () => {
    const { fake, tool } = setup();
    const fifo = { FifoQueue: 'true' };
    fake.add('t-dlq.fifo', fifo);
    fake.add('t.fifo', fifo);
    fake.put('t-dlq.fifo', 'd1', '{"not":"a task"}', 'tasks', { ...failure, original_message_id: 'src-1' });
    fake.failingConsumer = { queue: 't.fifo', dlq: 't-dlq.fifo' };
    const dlq = await tool.queue('t-dlq.fifo');
    const destination = await tool.queue('t.fifo');

    expect(await tool.redrive(dlq, destination)).toMatchObject({ moved: 1, failed: 0 });
    expect(fake.sends).toHaveLength(1);
    expect(fake.bodies('t-dlq.fifo')).toEqual(['{"not":"a task"}']);
    expect(fake.bodies('t.fifo')).toEqual([]);
    expect(fake.attributesOf('t-dlq.fifo')).toEqual([
      expect.objectContaining({ original_message_id: 'src-1', redrive_count: '1' }),
    ]);

    // A later run moves it again: a new redrive count, so FIFO deduplication lets it through.
    expect(await tool.redrive(await tool.queue('t-dlq.fifo'), destination)).toMatchObject({ moved: 1 });
    expect(fake.sends.map((send) => send.MessageDeduplicationId)).toEqual([
      'redrive-src-1-1',
      'redrive-src-1-2',
    ]);
    expect(fake.attributesOf('t-dlq.fifo')).toEqual([expect.objectContaining({ redrive_count: '2' })]);
  });

  it('never moves a message twice in one run, even when the DLQ held messages it could not read', async () => {
    const { fake, tool } = setup();
    fake.add('w-dlq');
    fake.add('w');
    fake.put('w-dlq', 'held', 'held by someone else');
    fake.put('w-dlq', 'd1', 'fails again');
    fake.holdElsewhere('w-dlq', 'held');
    fake.failingConsumer = { queue: 'w', dlq: 'w-dlq' };
    const result = await tool.redrive(await tool.queue('w-dlq'), await tool.queue('w'));
    expect(result).toMatchObject({ moved: 1, failed: 0, returned: 1 });
    expect(fake.sends).toHaveLength(1);
    expect(fake.bodies('w-dlq')).toEqual(['held by someone else', 'fails again']);
    // The returned message is visible again; the other reader still holds its own.
    expect(fake.hidden('w-dlq')).toBe(1);
  });

  it('moves only as many messages as the DLQ held when it started', async () => {
    const { fake, tool } = setup();
    fake.add('w-dlq');
    fake.add('w');
    fake.put('w-dlq', '1', 'one');
    fake.put('w-dlq', '2', 'two');
    // Other messages keep dying meanwhile: each new dead letter is the next run's.
    fake.afterSend = () => fake.put('w-dlq', `late-${fake.sends.length}`, `late ${fake.sends.length}`);
    const result = await tool.redrive(await tool.queue('w-dlq'), await tool.queue('w'));
    expect(result).toMatchObject({ moved: 2, failed: 0, returned: 0 });
    expect(fake.bodies('w')).toEqual(['one', 'two']);
    expect(fake.bodies('w-dlq')).toEqual(['late 1', 'late 2']);
    expect(fake.hidden('w-dlq')).toBe(0);
  });

  it('uses StartMessageMoveTask with the destination ARN where the endpoint has it', async () => {
    const { fake, tool } = setup();
    fake.moveTasks = true;
    fake.add('w-dlq');
    fake.add('w');
    const result = await tool.redrive(await tool.queue('w-dlq'), await tool.queue('w'));
    expect(result).toEqual({
      method: 'move-task',
      destination: 'w',
      moved: 2,
      failed: 0,
      returned: 0,
      taskHandle: 'task-1',
      failures: [],
    });
    const start = fake.commands.find((c) => c instanceof sqs.StartMessageMoveTaskCommand);
    expect((start as sqs.StartMessageMoveTaskCommand).input).toEqual({
      SourceArn: 'arn:aws:sqs:us-east-1:000000000000:w-dlq',
      DestinationArn: 'arn:aws:sqs:us-east-1:000000000000:w',
    });
  });

  it('names a queue that does not exist', async () => {
    const { tool } = setup();
    await expect(tool.queue('missing-dlq')).rejects.toThrow('Queue missing-dlq does not exist');
  });
});
