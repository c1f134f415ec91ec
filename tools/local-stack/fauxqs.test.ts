import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';

// The local SQS emulator itself, over the SDK: a receive from a FIFO queue hands out up to
// MaxNumberOfMessages of one group, in order, as SQS does (patches/fauxqs+2.4.1+002+...). fauxqs
// is ESM-only, so it runs in a child process, as the local stack runs it.

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER = `
import { buildApp } from 'fauxqs';
const app = buildApp({ logger: false });
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(app.server.address().port);
`;

let child: ChildProcess;
let sqs: SQSClient;

beforeAll(async () => {
  child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${chunk.toString().trim()}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sqs?.destroy();
  child?.kill();
});

let queues = 0;
async function fifoQueue(): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `emulator-${++queues}.fifo`,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true', VisibilityTimeout: '30' },
    }),
  );
  return QueueUrl!;
}

async function send(url: string, group: string, bodies: string[]) {
  for (let start = 0; start < bodies.length; start += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({
          Id: String(index),
          MessageBody: body,
          MessageGroupId: group,
        })),
      }),
    );
  }
}

async function receive(url: string, max = 10): Promise<Message[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: max, WaitTimeSeconds: 0 }),
  );
  return Messages ?? [];
}

async function remove(url: string, messages: Message[]) {
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: url,
      Entries: messages.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle!,
      })),
    }),
  );
}

const bodies = (messages: Message[]) => messages.map((message) => message.Body);
const numbered = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => `${prefix}${from + index}`);

describe('fauxqs FIFO receive', () => {
  it('hands out up to MaxNumberOfMessages of one group per receive, in send order', async () => {
    const url = await fifoQueue();
    await send(url, 'g', numbered('a', 1, 15));
    expect(bodies(await receive(url, 10))).toEqual(numbered('a', 1, 10));
  });

  it('hands out nothing more of a group while some of it is in flight, until those are deleted', async () => {
    const url = await fifoQueue();
    await send(url, 'g', numbered('a', 1, 6));
    const first = await receive(url, 4);
    expect(bodies(first)).toEqual(numbered('a', 1, 4));
    expect(await receive(url, 10)).toEqual([]);
    await remove(url, first.slice(0, 3));
    expect(await receive(url, 10)).toEqual([]);
    await remove(url, first.slice(3));
    expect(bodies(await receive(url, 10))).toEqual(numbered('a', 5, 6));
  });

  it('still serves other groups while one is locked, filling the receive from the next group', async () => {
    const url = await fifoQueue();
    await send(url, 'g1', numbered('a', 1, 3));
    await send(url, 'g2', numbered('b', 1, 3));
    expect(bodies(await receive(url, 2))).toEqual(['a1', 'a2']);
    expect(bodies(await receive(url, 10))).toEqual(numbered('b', 1, 3));
    expect(await receive(url, 10)).toEqual([]);
  });

  it('gives messages made visible again back in send order, whatever order they came back in', async () => {
    const url = await fifoQueue();
    await send(url, 'g', numbered('a', 1, 5));
    const inFlight = await receive(url, 3);
    for (const message of [...inFlight].reverse()) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.ReceiptHandle!,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect(bodies(await receive(url, 10))).toEqual(numbered('a', 1, 5));
  });
});
