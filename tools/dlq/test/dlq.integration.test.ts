import { execFile } from 'node:child_process';
import path from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { drainQueue, queueDepth, waitFor } from '@offload/testing';

// Runs the CLI as an operator would, against the emulator the integration global setup started
// (it exports AWS_ENDPOINT_URL_SQS and local credentials). Each test makes its own queue pair,
// except the one that needs a real worker to fail a redriven message again: it uses task-api's.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
const base = `offload-dlqtool-${Date.now().toString(36)}`;
const created: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'tools/dlq/cli.ts', ...args],
      // A redrive that never ends must fail the test, not hang it.
      { cwd: ROOT, env: process.env, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
  });
}

async function createPair(name: string, fifo: boolean) {
  const suffix = fifo ? '.fifo' : '';
  const attributes = fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'true' } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: attributes }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const source = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}${suffix}`,
      Attributes: {
        ...attributes,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes!.QueueArn, maxReceiveCount: 3 }),
      },
    }),
  );
  created.push(dlq.QueueUrl!, source.QueueUrl!);
  return {
    dlq: { name: `${name}-dlq${suffix}`, url: dlq.QueueUrl! },
    source: { name: `${name}${suffix}`, url: source.QueueUrl! },
  };
}

/** Puts a message in a DLQ the way the workers do: body plus failure attributes. */
async function deadLetter(url: string, body: string, reason: string, extra: { group?: string } = {}) {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      ...(extra.group && { MessageGroupId: extra.group, MessageDeduplicationId: `${extra.group}-${body}` }),
      MessageAttributes: {
        failure_kind: text('exhausted'),
        failure_reason: text(reason),
        source_message_id: text(`src-${body}`),
        receive_count: text('3'),
        trace_id: text(`trace-${body}`),
      },
    }),
  );
}

async function depth(url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return Object.values(Attributes).reduce((sum, value) => sum + Number(value), 0);
}

async function drain(url: string): Promise<Message[]> {
  const drained: Message[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!Messages?.length) return drained;
    for (const message of Messages) {
      drained.push(message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

afterAll(async () => {
  await Promise.all(
    created.map((url) => sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined)),
  );
});

describe('npm run dlq against the local emulator', () => {
  it('lists, peeks without consuming, and redrives a standard DLQ back to its source', async () => {
    const { dlq, source } = await createPair(`${base}-work`, false);
    const bodies = ['{"n":1}', '{"n":2}', `{"n":3,"prompt":"${'p'.repeat(400)}"}`];
    for (const [index, body] of bodies.entries()) await deadLetter(dlq.url, body, `Error: boom ${index + 1}`);
    expect(await depth(dlq.url)).toBe(3);

    const list = await cli('list', '--prefix', base);
    expect(list.code).toBe(0);
    const row = list.stdout.split('\n').find((line) => line.startsWith(`${dlq.name} `));
    expect(row?.split(/\s{2,}/)).toEqual([dlq.name, '3', '0', source.name]);

    const peek = await cli('peek', dlq.name);
    expect(peek.code).toBe(0);
    expect(peek.stdout).toContain(`${dlq.name}: showing 3 of ~3 message(s)`);
    for (const reason of ['Error: boom 1', 'Error: boom 2', 'Error: boom 3'])
      expect(peek.stdout).toContain(reason);
    expect(peek.stdout.match(/kind exhausted {2}receive_count 3/g)).toHaveLength(3);
    expect(peek.stdout).not.toContain('p'.repeat(201));
    expect(await depth(dlq.url)).toBe(3);

    const json = await cli('peek', dlq.url, '--json');
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { messageId: string; body: string });
    expect(new Set(lines.map((line) => line.messageId)).size).toBe(3);
    expect(lines.map((line) => line.body).sort()).toEqual([...bodies].sort());
    expect(await depth(dlq.url)).toBe(3);

    const dryRun = await cli('redrive', dlq.name, '--dry-run');
    expect(dryRun.stdout).toContain(`would move ~3 message(s) from ${dlq.name} to ${source.name}`);
    expect(await depth(dlq.url)).toBe(3);
    expect(await depth(source.url)).toBe(0);

    const redrive = await cli('redrive', dlq.name, '--to', source.name);
    expect(redrive.stdout).toContain(`moved 3, failed 0 -> ${source.name} via receive-send-delete`);
    expect(redrive.code).toBe(0);
    expect(await depth(dlq.url)).toBe(0);
    expect(await depth(source.url)).toBe(3);

    const moved = await drain(source.url);
    expect(moved.map((message) => message.Body).sort()).toEqual([...bodies].sort());
    for (const message of moved) {
      expect(Object.keys(message.MessageAttributes ?? {}).sort()).toEqual([
        'original_message_id',
        'redrive_count',
        'trace_id',
      ]);
      expect(message.MessageAttributes?.trace_id?.StringValue).toBe(`trace-${message.Body}`);
      expect(message.MessageAttributes?.redrive_count?.StringValue).toBe('1');
    }
  });

  it('redrives a FIFO DLQ to its only source in order, keeping the message group', async () => {
    const { dlq, source } = await createPair(`${base}-tasks`, true);
    for (const body of ['a', 'b', 'c']) await deadLetter(dlq.url, body, `Error: ${body}`, { group: 'tasks' });

    // SQS (and the patched local emulator) hands out up to 10 messages of one FIFO group per
    // receive, so a peek shows the whole group in order without consuming it; nothing is lost.
    const peek = await cli('peek', dlq.name);
    expect(peek.stdout).toContain('group tasks');
    expect(peek.stdout).toMatch(/showing 3 of ~3/);
    expect(peek.stdout.indexOf('body    a')).toBeLessThan(peek.stdout.indexOf('body    c'));
    expect(await depth(dlq.url)).toBe(3);

    const redrive = await cli('redrive', dlq.name);
    expect(redrive.stdout).toContain(`moved 3, failed 0 -> ${source.name}`);
    expect(await depth(dlq.url)).toBe(0);

    const moved = await drain(source.url);
    expect(moved.map((message) => message.Body)).toEqual(['a', 'b', 'c']);
    expect(moved.map((message) => message.Attributes?.MessageGroupId)).toEqual(['tasks', 'tasks', 'tasks']);
    expect(moved.every((message) => !message.MessageAttributes?.failure_kind)).toBe(true);
  });

  it('moves a message that fails again once and ends, leaving only it in the DLQ, counted as redriven', async () => {
    // task-api's worker at the `test` stage dead-letters a malformed message at once.
    const queue = 'offload-task-api-test-tasks.fifo';
    const dlq = 'offload-task-api-test-tasks-dlq.fifo';
    await drainQueue(dlq); // earlier suites' dead letters are theirs, not this test's
    const body = JSON.stringify({ not: 'a task', run: base });
    const { MessageId } = await sqs.send(
      new SendMessageCommand({
        QueueUrl: (await sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl,
        MessageBody: body,
        MessageGroupId: `${base}-poison`,
        MessageDeduplicationId: `${base}-poison`,
      }),
    );
    await waitFor('the poison message in the DLQ', async () => (await queueDepth(dlq)) === 1);

    const redrive = await cli('redrive', dlq);
    expect(redrive.stdout).toContain(`moved 1, failed 0 -> ${queue} via receive-send-delete`);
    expect(redrive.code).toBe(0);

    // The worker fails it again; then nothing more arrives and no queue holds a copy.
    await waitFor('the message back in the DLQ', async () => (await queueDepth(dlq)) >= 1);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await queueDepth(dlq)).toBe(1);
    expect(await queueDepth(queue)).toBe(0);

    const peek = await cli('peek', dlq);
    expect(peek.stdout).toContain('kind poison  receive_count 1  redriven 1 time');

    const [dead, ...more] = await drainQueue(dlq);
    expect(more).toEqual([]);
    expect(dead?.body).toBe(body);
    expect(dead?.attributes).toMatchObject({ original_message_id: MessageId, redrive_count: '1' });
  });

  it("lists the services' own DLQs with the sources their redrive policies name (read only)", async () => {
    const list = await cli('list');
    expect(list.code).toBe(0);
    const row = list.stdout
      .split('\n')
      .find((line) => line.startsWith('offload-task-api-test-tasks-dlq.fifo '));
    expect(row).toMatch(/ offload-task-api-test-tasks\.fifo$/);
  });

  it('refuses to guess a destination and names the missing queue', async () => {
    const missing = await cli('redrive', `${base}-nothing-dlq`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`Queue ${base}-nothing-dlq does not exist`);

    const orphan = await sqs.send(new CreateQueueCommand({ QueueName: `${base}-orphan-dlq` }));
    created.push(orphan.QueueUrl!);
    const noSource = await cli('redrive', `${base}-orphan-dlq`, '--prefix', base);
    expect(noSource.code).toBe(1);
    expect(noSource.stderr).toMatch(/--to <queue>/);
  });
});
