import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { sqs } from '@offload/aws/sqs';

/**
 * The local SQS emulator must take every character SQS takes (#x9 #xA #xD #x20-#xD7FF
 * #xE000-#xFFFD #x10000-#x10FFFF), or work that succeeds on AWS fails locally, and still refuse
 * the rest, or work that fails on AWS passes locally. fauxqs 2.4.1 stops at U+FFFF; the patch in
 * patches/ lifts that, and this suite shows it applied.
 */
describe('local SQS emulator: the characters SQS accepts', () => {
  let queueUrl: string;

  beforeAll(async () => {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: `emulator-chars-${randomUUID()}` }));
    queueUrl = out.QueueUrl!;
  });

  afterAll(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  it('round-trips a body and an attribute value with characters above U+FFFF', async () => {
    const body = 'one emoji 😀, a rare CJK 𠀀 and the last plane \u{10FFFD}';
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: body,
        MessageAttributes: { note: { DataType: 'String', StringValue: 'tagged 🚀' } },
      }),
    );
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(out.Messages?.[0]?.Body).toBe(body);
    expect(out.Messages?.[0]?.MessageAttributes?.note?.StringValue).toBe('tagged 🚀');
  });

  it.each([
    ['U+0000', 'nul \u0000 here'],
    ['U+0008', 'backspace \u0008 here'],
    ['U+FFFE', 'non-character \uFFFE here'],
  ])('still rejects %s in a body', async (_name, body) => {
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body })),
    ).rejects.toMatchObject({
      name: expect.stringMatching(/InvalidMessageContents/),
    });
  });

  it('still rejects a forbidden character in an attribute value, and in one batch entry only', async () => {
    await expect(
      sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: 'fine',
          MessageAttributes: { bad: { DataType: 'String', StringValue: 'nul \u0000' } },
        }),
      ),
    ).rejects.toThrow(/invalid characters/i);

    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'ok', MessageBody: 'emoji 😀' },
          { Id: 'bad', MessageBody: 'nul \u0000' },
        ],
      }),
    );
    expect(out.Successful?.map((entry) => entry.Id)).toEqual(['ok']);
    expect(out.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'InvalidMessageContents' })]);
  });
});
