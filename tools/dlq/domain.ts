import type { Message, MessageAttributeValue, SendMessageCommandInput } from '@aws-sdk/client-sqs';

/** Message attributes the workers add when they dead-letter a message (libs/middleware sqs.ts). */
export const FAILURE_ATTRIBUTES = ['failure_kind', 'failure_reason', 'source_message_id', 'receive_count'];

/**
 * Attributes a message carries across redrives: its identity (the id of the message that first
 * failed) and how many redrives it has been through. The worker copies both onto a dead letter
 * (libs/middleware sqs.ts), so a message that fails again is recognisably the same one.
 */
export const ORIGINAL_ID_ATTRIBUTE = 'original_message_id';
export const REDRIVE_COUNT_ATTRIBUTE = 'redrive_count';
const REDRIVE_ATTRIBUTES = [ORIGINAL_ID_ATTRIBUTE, REDRIVE_COUNT_ATTRIBUTE];

export function isDlqName(name: string): boolean {
  return name.endsWith('-dlq') || name.endsWith('-dlq.fifo');
}

export function isFifoName(name: string): boolean {
  return name.endsWith('.fifo');
}

/** The queue name in a queue URL (`…/000000000000/name`) or ARN (`arn:aws:sqs:…:name`). */
export function queueNameOf(urlOrArn: string): string {
  const separator = urlOrArn.startsWith('arn:') ? ':' : '/';
  return urlOrArn.replace(/\/+$/, '').split(separator).pop() ?? urlOrArn;
}

export type QueueRef = { url: string; name: string } | { name: string; url?: undefined };

/** A queue given on the command line: a URL is used as it is, anything else is a name to look up. */
export function parseQueueRef(ref: string): QueueRef {
  if (/^https?:\/\//.test(ref)) return { url: ref, name: queueNameOf(ref) };
  return { name: ref };
}

export interface QueueInfo {
  name: string;
  url: string;
  arn?: string;
  /** The queue's RedrivePolicy attribute, as SQS returns it (a JSON string). */
  redrivePolicy?: string;
}

/** The DLQ a RedrivePolicy points at, by name; undefined for no or unreadable policy. */
export function deadLetterTargetName(redrivePolicy: string | undefined): string | undefined {
  if (!redrivePolicy) return undefined;
  try {
    const arn = (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
    return typeof arn === 'string' && arn ? queueNameOf(arn) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which queues redrive into which DLQ, from the queues' RedrivePolicy attributes: the fallback
 * for endpoints without ListDeadLetterSourceQueues. Matched by queue name, since an emulator's
 * ARNs and URLs need not agree on account or host. Keys are DLQ names; sources are sorted.
 */
export function deadLetterSources(queues: QueueInfo[]): Map<string, string[]> {
  const sources = new Map<string, string[]>();
  for (const queue of queues) {
    const target = deadLetterTargetName(queue.redrivePolicy);
    if (target) sources.set(target, [...(sources.get(target) ?? []), queue.name].sort());
  }
  return sources;
}

/** The queue a redrive goes to: `--to`, else the DLQ's only source. */
export function chooseDestination(dlqName: string, to: string | undefined, sources: string[]): string {
  if (to) return to;
  if (sources.length === 1) return sources[0]!;
  if (sources.length === 0) {
    throw new Error(`No queue redrives into ${dlqName}; say where its messages go with --to <queue>`);
  }
  throw new Error(
    `${dlqName} has ${sources.length} source queues (${sources.join(', ')}); choose one with --to <queue>`,
  );
}

/**
 * Whether an SQS error means the endpoint does not implement the action (fauxqs answers
 * `InvalidAction: Unknown action`), as opposed to a real failure such as access denied.
 */
export function isUnsupportedAction(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    ['InvalidAction', 'UnknownOperationException', 'UnsupportedOperation', 'NotImplemented'].includes(
      error.name,
    ) ||
    status === 501 ||
    /unknown action|not (yet )?implemented|not supported/i.test(error.message)
  );
}

/** Whether an SQS error says the queue does not exist (JSON and query-protocol names). */
export function isMissingQueue(error: unknown): boolean {
  return (
    error instanceof Error &&
    ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'].includes(error.name)
  );
}

/** What an operator needs to see of one dead-lettered message. */
export interface DlqMessage {
  messageId: string;
  failureKind?: string;
  failureReason?: string;
  sourceMessageId?: string;
  /** The worker's count of receives from the source queue, not the DLQ's own receive count. */
  receiveCount?: number;
  /** The id of the message that first failed, carried across redrives. */
  originalMessageId?: string;
  /** How many redrives the message has been through (0: never redriven). */
  redriveCount: number;
  /** ISO time the message was sent to the DLQ. */
  sentAt?: string;
  groupId?: string;
  /** Message attributes other than the failure ones, as strings. */
  attributes: Record<string, string>;
  body: string;
}

export function describeMessage(message: Message): DlqMessage {
  const attributes = message.MessageAttributes ?? {};
  const text = (name: string) => attributes[name]?.StringValue;
  const sent = Number(message.Attributes?.SentTimestamp);
  const count = Number(text('receive_count'));
  return {
    messageId: message.MessageId ?? '',
    failureKind: text('failure_kind'),
    failureReason: text('failure_reason'),
    sourceMessageId: text('source_message_id'),
    receiveCount: Number.isFinite(count) && text('receive_count') !== undefined ? count : undefined,
    originalMessageId: text(ORIGINAL_ID_ATTRIBUTE),
    redriveCount: redriveCountOf(message),
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined,
    groupId: message.Attributes?.MessageGroupId,
    attributes: Object.fromEntries(
      Object.entries(attributes)
        .filter(([name]) => !FAILURE_ATTRIBUTES.includes(name) && !REDRIVE_ATTRIBUTES.includes(name))
        .map(([name, value]) => [name, value.StringValue ?? `(${value.DataType ?? 'binary'})`]),
    ),
    body: message.Body ?? '',
  };
}

/** Oldest first (standard queues hand messages out in no particular order); undated ones last. */
export function bySentTime(messages: DlqMessage[]): DlqMessage[] {
  const time = (message: DlqMessage) => (message.sentAt ? Date.parse(message.sentAt) : Number.MAX_VALUE);
  return [...messages].sort((a, b) => time(a) - time(b));
}

/**
 * Collects messages by MessageId: SQS is at-least-once, so one receive loop can see a message
 * twice. `add` returns only the messages not seen before, so a caller can stop when none are new.
 */
export class MessageCollector {
  private readonly byId = new Map<string, Message>();

  add(messages: Message[] | undefined): Message[] {
    const fresh: Message[] = [];
    for (const message of messages ?? []) {
      const id = message.MessageId;
      if (!id || this.byId.has(id)) continue;
      this.byId.set(id, message);
      fresh.push(message);
    }
    return fresh;
  }

  get size(): number {
    return this.byId.size;
  }

  get messages(): Message[] {
    return [...this.byId.values()];
  }
}

/**
 * A dead letter's stable identity: every failure gives the message a new MessageId, so only the
 * carried original id recognises it. A message that never had one (moved by a redrive policy)
 * is identified by its own id, which is also what the next redrive records for it.
 */
export function originalMessageId(message: Message): string {
  const carried = message.MessageAttributes?.[ORIGINAL_ID_ATTRIBUTE]?.StringValue;
  if (carried) return carried;
  if (!message.MessageId) throw new Error('A received message has no MessageId');
  return message.MessageId;
}

/** How many redrives a message has been through: 0 when it carries no (or no readable) count. */
export function redriveCountOf(message: Message): number {
  const count = Number(message.MessageAttributes?.[REDRIVE_COUNT_ATTRIBUTE]?.StringValue);
  return Number.isInteger(count) && count > 0 ? count : 0;
}

/**
 * A FIFO deduplication id from the message's identity and the redrive it is on. A redrive that
 * is retried after sending but before deleting sends the same id again and is deduplicated;
 * the next redrive of a message that failed again counts one more, so SQS's 5-minute
 * deduplication window does not swallow it. Keeping the id explicit also stops content-based
 * deduplication from dropping a body first sent less than 5 minutes ago.
 */
export function redriveDeduplicationId(originalId: string, redriveCount: number): string {
  const safe = originalId.replace(/[^\w!"#$%&'()*+,\-./:;<=>?@[\\\]^`{|}~]/g, '_');
  const suffix = `-${redriveCount}`;
  return `redrive-${safe}`.slice(0, 128 - suffix.length) + suffix;
}

function copyAttribute(value: MessageAttributeValue): MessageAttributeValue {
  return {
    DataType: value.DataType,
    ...(value.StringValue !== undefined && { StringValue: value.StringValue }),
    ...(value.BinaryValue !== undefined && { BinaryValue: value.BinaryValue }),
  };
}

/**
 * The SendMessage input that puts a dead-lettered message back on a queue: the same body and
 * user attributes, without the failure attributes the worker added (the next failure writes
 * fresh ones), with its identity and its redrive count, one more than before. A FIFO
 * destination keeps the message group and gets a deduplication id from those two; a standard
 * one gets neither.
 */
export function redriveInput(
  message: Message,
  destination: { url: string; fifo: boolean },
): SendMessageCommandInput {
  const originalId = originalMessageId(message);
  const redriveCount = redriveCountOf(message) + 1;
  const kept = Object.entries(message.MessageAttributes ?? {}).filter(
    ([name]) => !FAILURE_ATTRIBUTES.includes(name),
  );
  return {
    QueueUrl: destination.url,
    MessageBody: message.Body ?? '',
    MessageAttributes: {
      ...Object.fromEntries(kept.map(([name, value]) => [name, copyAttribute(value)])),
      [ORIGINAL_ID_ATTRIBUTE]: { DataType: 'String', StringValue: originalId },
      [REDRIVE_COUNT_ATTRIBUTE]: { DataType: 'String', StringValue: String(redriveCount) },
    },
    ...(destination.fifo && {
      MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive',
      MessageDeduplicationId: redriveDeduplicationId(originalId, redriveCount),
    }),
  };
}

/** What a redrive run does with one message it received from the DLQ. */
export type RedriveStep =
  /** Send it to the destination: it was in the DLQ when the run started. */
  | 'move'
  /** A second delivery of a message this run already received (SQS is at least once). */
  | 'repeat'
  /** A message this run moved that failed again and is back: it stays in the DLQ. */
  | 'returned'
  /** Received after the run has handled as many messages as the DLQ held at its start. */
  | 'beyond';

/**
 * Decides, message by message, what a receive/send/delete redrive moves, so it moves each
 * message that was in the DLQ when it started once and then ends. The DLQ's depth at the start
 * bounds how many it handles; a message whose identity it already handled has failed again and
 * is left where it is. Without both, a message that keeps failing would be moved forever.
 */
export class RedrivePlan {
  private readonly receivedIds = new Set<string>();
  private readonly handledIdentities = new Set<string>();
  private handledCount = 0;
  returned = 0;

  /** `limit`: the DLQ's depth (visible, in flight and delayed) when the run started. */
  constructor(private readonly limit: number) {}

  /** Whether the run has handled (moved or tried to) as many messages as the DLQ held at the start. */
  get done(): boolean {
    return this.handledCount >= this.limit;
  }

  next(message: Message): RedriveStep {
    const id = message.MessageId;
    if (!id || this.receivedIds.has(id)) return 'repeat';
    this.receivedIds.add(id);
    const identity = originalMessageId(message);
    if (this.handledIdentities.has(identity)) {
      this.returned += 1;
      return 'returned';
    }
    if (this.done) return 'beyond';
    this.handledIdentities.add(identity);
    this.handledCount += 1;
    return 'move';
  }
}

/** Move-task statuses after which nothing more will move. */
export function isFinalMoveStatus(status: string | undefined): boolean {
  return status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED';
}
