import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  type Message,
  type QueueAttributeName,
  type ReceiveMessageCommandInput,
} from '@aws-sdk/client-sqs';
import type { ClientSettings } from './config';
import {
  chooseDestination,
  deadLetterSources,
  isDlqName,
  isFifoName,
  isFinalMoveStatus,
  isMissingQueue,
  isUnsupportedAction,
  MessageCollector,
  parseQueueRef,
  queueNameOf,
  RedrivePlan,
  redriveInput,
} from './domain';
import type { DlqSummary } from './format';

/** How long a peek hides the messages it has read before handing them back (it releases them at once). */
const PEEK_HOLD_SECONDS = 30;
/** How long a manual redrive holds a message between receiving it and deleting it. */
const REDRIVE_HOLD_SECONDS = 60;

export interface Queue {
  name: string;
  url: string;
  arn: string;
  fifo: boolean;
  /** Visible, in flight and delayed. */
  depth: number;
  inFlight: number;
  redrivePolicy?: string;
}

export interface RedriveResult {
  method: 'move-task' | 'receive-send-delete';
  destination: string;
  moved: number;
  failed: number;
  /** Moved messages that failed again and were back in the DLQ before the run ended (they stay). */
  returned: number;
  taskHandle?: string;
  failures: { messageId: string; reason: string }[];
}

const RECEIVE_ALL: Pick<ReceiveMessageCommandInput, 'MessageAttributeNames' | 'MessageSystemAttributeNames'> =
  {
    MessageAttributeNames: ['All'],
    MessageSystemAttributeNames: ['All'],
  };

export function createClient(settings: ClientSettings): SQSClient {
  // Queue URLs are never used as endpoints: fauxqs hands out hosts that do not resolve.
  return new SQSClient({ ...settings, useQueueUrlAsEndpoint: false });
}

const errorText = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export class DlqTool {
  /** Whether the endpoint implements ListDeadLetterSourceQueues; learnt on first use. */
  private listSourcesSupported: boolean | undefined;

  constructor(
    private readonly sqs: SQSClient,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  async queueUrls(prefix: string): Promise<string[]> {
    const urls: string[] = [];
    let NextToken: string | undefined;
    do {
      const out = await this.sqs.send(
        new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken }),
      );
      urls.push(...(out.QueueUrls ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    return urls;
  }

  async describe(url: string): Promise<Queue> {
    const { Attributes: attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'QueueArn',
          'FifoQueue',
          'RedrivePolicy',
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const name = queueNameOf(url);
    const count = (key: QueueAttributeName) => Number(attributes[key] ?? 0) || 0;
    const inFlight = count('ApproximateNumberOfMessagesNotVisible');
    return {
      name,
      url,
      arn: attributes.QueueArn ?? '',
      fifo: attributes.FifoQueue === 'true' || isFifoName(name),
      depth: count('ApproximateNumberOfMessages') + inFlight + count('ApproximateNumberOfMessagesDelayed'),
      inFlight,
      redrivePolicy: attributes.RedrivePolicy,
    };
  }

  /** A queue by name or URL. */
  async queue(ref: string): Promise<Queue> {
    const parsed = parseQueueRef(ref);
    try {
      const url =
        parsed.url ?? (await this.sqs.send(new GetQueueUrlCommand({ QueueName: parsed.name }))).QueueUrl;
      if (!url) throw new Error(`Queue ${ref} has no URL`);
      return await this.describe(url);
    } catch (error) {
      if (isMissingQueue(error)) throw new Error(`Queue ${ref} does not exist`, { cause: error });
      throw error;
    }
  }

  /**
   * Names of the queues that redrive into `dlq`: ListDeadLetterSourceQueues where the endpoint
   * has it, else the RedrivePolicy of every queue under `prefix`.
   */
  async sources(dlq: Queue, prefix: string, known?: Queue[]): Promise<string[]> {
    if (this.listSourcesSupported !== false) {
      try {
        const names: string[] = [];
        let NextToken: string | undefined;
        do {
          const out = await this.sqs.send(
            new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.url, MaxResults: 1000, NextToken }),
          );
          names.push(...(out.queueUrls ?? []).map(queueNameOf));
          NextToken = out.NextToken;
        } while (NextToken);
        this.listSourcesSupported = true;
        return names.sort();
      } catch (error) {
        if (!isUnsupportedAction(error)) throw error;
        this.listSourcesSupported = false;
      }
    }
    const queues =
      known ?? (await Promise.all((await this.queueUrls(prefix)).map((url) => this.describe(url))));
    return deadLetterSources(queues.filter((queue) => !isDlqName(queue.name))).get(dlq.name) ?? [];
  }

  /** Every DLQ under the prefix with its depth and the queues that redrive into it. */
  async list(prefix: string): Promise<DlqSummary[]> {
    const queues = await Promise.all((await this.queueUrls(prefix)).map((url) => this.describe(url)));
    const dlqs = queues.filter((queue) => isDlqName(queue.name)).sort((a, b) => a.name.localeCompare(b.name));
    const summaries: DlqSummary[] = [];
    for (const dlq of dlqs) {
      summaries.push({
        name: dlq.name,
        depth: dlq.depth,
        inFlight: dlq.inFlight,
        sources: await this.sources(dlq, prefix, queues),
      });
    }
    return summaries;
  }

  /**
   * Reads up to `max` messages without consuming them. Each receive hides what it returns so the
   * next one yields new messages (with visibility 0 SQS may return the same few every time); ids
   * are deduplicated, reading stops when a receive brings nothing new, and every message read is
   * made visible again before returning, even on error. Nothing is deleted.
   */
  async peek(queue: Queue, max: number): Promise<Message[]> {
    const collected = new MessageCollector();
    const receipts: { Id: string; ReceiptHandle: string }[] = [];
    try {
      while (collected.size < max) {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: Math.min(10, max - collected.size),
            VisibilityTimeout: PEEK_HOLD_SECONDS,
            WaitTimeSeconds: 1,
            ...RECEIVE_ALL,
          }),
        );
        for (const message of out.Messages ?? []) {
          if (message.ReceiptHandle) {
            receipts.push({ Id: String(receipts.length), ReceiptHandle: message.ReceiptHandle });
          }
        }
        if (collected.add(out.Messages).length === 0) break;
      }
    } finally {
      await this.release(queue.url, receipts);
    }
    return collected.messages.slice(0, max);
  }

  private async release(url: string, receipts: { Id: string; ReceiptHandle: string }[]): Promise<void> {
    for (let start = 0; start < receipts.length; start += 10) {
      const out = await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: receipts.slice(start, start + 10).map((entry) => ({ ...entry, VisibilityTimeout: 0 })),
        }),
      );
      for (const failure of out.Failed ?? []) {
        this.log(`Could not make a message visible again (${failure.Code}); it returns after its hold`);
      }
    }
  }

  /** The destination queue of a redrive: `--to`, else the DLQ's single source. */
  async destination(dlq: Queue, to: string | undefined, prefix: string): Promise<Queue> {
    const sources = to ? [] : await this.sources(dlq, prefix);
    return this.queue(chooseDestination(dlq.name, to, sources));
  }

  /**
   * Moves the messages `dlq` holds when it starts to `destination`, each once:
   * StartMessageMoveTask where the endpoint has it (polled until it ends), else receive -> send
   * -> delete, deleting only after the send succeeded and leaving in the DLQ any moved message
   * that fails again before the run ends.
   */
  async redrive(dlq: Queue, destination: Queue, options: { manual?: boolean } = {}): Promise<RedriveResult> {
    if (!options.manual) {
      try {
        return await this.moveTask(dlq, destination);
      } catch (error) {
        if (!isUnsupportedAction(error)) throw error;
        this.log('This endpoint has no StartMessageMoveTask; moving messages one by one');
      }
    }
    return this.receiveSendDelete(dlq, destination);
  }

  private async moveTask(dlq: Queue, destination: Queue): Promise<RedriveResult> {
    const started = await this.sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: destination.arn }),
    );
    const taskHandle = started.TaskHandle ?? '';
    this.log(`Started message move task ${taskHandle}`);
    for (;;) {
      const out = await this.sqs.send(
        new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 10 }),
      );
      const task = out.Results?.find((result) => result.TaskHandle === taskHandle) ?? out.Results?.[0];
      if (task && isFinalMoveStatus(task.Status)) {
        const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
        const failed =
          task.Status === 'COMPLETED'
            ? 0
            : Math.max(0, (task.ApproximateNumberOfMessagesToMove ?? 0) - moved);
        return {
          method: 'move-task',
          destination: destination.name,
          moved,
          failed,
          returned: 0,
          taskHandle,
          failures: task.FailureReason
            ? [{ messageId: '-', reason: `${task.Status}: ${task.FailureReason}` }]
            : [],
        };
      }
      this.log(
        `  ${task?.Status ?? 'STARTING'}: ${task?.ApproximateNumberOfMessagesMoved ?? 0} of ~${task?.ApproximateNumberOfMessagesToMove ?? '?'} moved`,
      );
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  private async receiveSendDelete(dlq: Queue, destination: Queue): Promise<RedriveResult> {
    const result: RedriveResult = {
      method: 'receive-send-delete',
      destination: destination.name,
      moved: 0,
      failed: 0,
      returned: 0,
      failures: [],
    };
    // What is in the DLQ now is what this run moves; anything that fails again meanwhile stays.
    const plan = new RedrivePlan((await this.describe(dlq.url)).depth);
    // FIFO: after a failure in a group, later messages of that group stay put so order holds.
    const failedGroups = new Set<string>();
    // Messages not moved stay hidden until the loop ends (so receives move on to the others),
    // then are made visible again.
    const held: { Id: string; ReceiptHandle: string }[] = [];
    const target = { url: destination.url, fifo: destination.fifo };
    try {
      while (!plan.done) {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlq.url,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: REDRIVE_HOLD_SECONDS,
            WaitTimeSeconds: 1,
            ...RECEIVE_ALL,
          }),
        );
        const steps = (out.Messages ?? []).map((message) => ({ message, step: plan.next(message) }));
        for (const { message, step } of steps) {
          const hold = () =>
            message.ReceiptHandle &&
            held.push({ Id: String(held.length), ReceiptHandle: message.ReceiptHandle });
          if (step !== 'move') {
            hold();
            continue;
          }
          const id = message.MessageId ?? '';
          const group = message.Attributes?.MessageGroupId;
          const fail = (reason: string) => {
            if (dlq.fifo && group) failedGroups.add(group);
            result.failed += 1;
            result.failures.push({ messageId: id, reason });
            hold();
          };
          if (dlq.fifo && group && failedGroups.has(group)) {
            fail('not sent: an earlier message of its group failed');
            continue;
          }
          try {
            await this.sqs.send(new SendMessageCommand(redriveInput(message, target)));
          } catch (error) {
            fail(`send failed: ${errorText(error)}`);
            continue;
          }
          result.moved += 1;
          try {
            await this.sqs.send(
              new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: message.ReceiptHandle }),
            );
          } catch (error) {
            // Sent but still in the DLQ: it reappears after the hold; a FIFO rerun is deduplicated.
            result.failures.push({
              messageId: id,
              reason: `sent, but not deleted from the DLQ: ${errorText(error)}`,
            });
          }
        }
        // Nothing at all, or only repeats of messages already handled (at-least-once delivery).
        if (steps.every(({ step }) => step === 'repeat')) break;
      }
      result.returned = plan.returned;
      return result;
    } finally {
      await this.release(dlq.url, held);
    }
  }
}
