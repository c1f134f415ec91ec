import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod/mini';
import { describeError, OffloadError, PoisonMessageError } from '@offload/errors';
import { parseMessage } from '@offload/messages';
import { logger, traceIdOf } from './logger';
import { dimensionMetrics, metrics, MetricUnit, recordCounts } from './metrics';

export interface RecordContext {
  messageId: string;
  /** 1 on first delivery; from the record's ApproximateReceiveCount. */
  receiveCount: number;
  /** True when this delivery is the queue's last before redrive (receiveCount >= maxReceiveCount). */
  isLastAttempt: boolean;
  groupId?: string;
  /** Logs with this message's id (and its traceId as `correlation_id`) on every line. */
  log: RecordLog;
  /** Milliseconds before the invocation times out; Infinity where the runtime does not say. */
  remainingTimeMs(): number;
}

export type RecordHandler<Message> = (message: Message, context: RecordContext) => Promise<void>;

export interface SqsWorkerOptions<Schema extends z.ZodMiniType> {
  /** Every message version this worker accepts; anything else is poison. */
  schema: Schema;
  recordHandler: RecordHandler<z.infer<Schema>>;
  /** Name of the queue's DLQ, for poison and exhausted messages (they go there with a reason). */
  dlqName: string;
  /** The source queue's redrive maxReceiveCount: the last attempt moves the message itself. */
  maxReceiveCount: number;
  /** FIFO: stop each message group at its first failure so order holds. */
  fifo?: boolean;
}

type LogFields = Record<string, unknown>;
export interface RecordLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * The record's keys merged into each call on the shared logger. A Powertools child logger per
 * record would do the same, but building one cost about 75 µs a record (measured by the bench),
 * most of the stack's per-record cost. A class, so a record costs one small object, not four
 * closures.
 */
class KeyedLog implements RecordLog {
  /** The message's `metadata.traceId`, once it is parsed. */
  correlationId: string | undefined = undefined;
  constructor(readonly messageId: string) {}
  debug(message: string, fields?: LogFields) {
    logger.debug(message, this.#with(fields));
  }
  info(message: string, fields?: LogFields) {
    logger.info(message, this.#with(fields));
  }
  warn(message: string, fields?: LogFields) {
    logger.warn(message, this.#with(fields));
  }
  error(message: string, fields?: LogFields) {
    logger.error(message, this.#with(fields));
  }
  #with(fields: LogFields | undefined): LogFields {
    const keys: LogFields = { message_id: this.messageId };
    if (this.correlationId !== undefined) keys.correlation_id = this.correlationId;
    return { ...keys, ...fields };
  }
}

/** A record's context, which is also its log (`log` is the object itself): one object a record. */
class RecordAttempt extends KeyedLog implements RecordContext {
  readonly log: RecordLog = this;
  constructor(
    messageId: string,
    readonly receiveCount: number,
    readonly isLastAttempt: boolean,
    readonly groupId: string | undefined,
    readonly remainingTimeMs: () => number,
  ) {
    super(messageId);
  }
}

/** A FIFO record not attempted because an earlier record of its group failed in this batch. */
export class SkippedAfterFailureError extends OffloadError {}

function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

/** SQS takes at most 10 attributes on a message. */
const MAX_MESSAGE_ATTRIBUTES = 10;

/**
 * The attributes of a record's dead letter: why it failed, plus what the DLQ tool (tools/dlq)
 * needs to recognise it after a redrive: `original_message_id`, the id of the message that
 * first failed, and `redrive_count`, which the tool sets on each redrive. Every failure gives
 * the message a new id, so without them a message that fails again looks new and a redrive
 * would move it forever. The record's own string attributes come along too (binary ones
 * cannot, sendMessage sends strings), after ours when the 10-attribute limit bites.
 */
function deadLetterAttributes(
  record: SQSRecord,
  kind: 'poison' | 'exhausted',
  reason: string,
): Record<string, string> {
  const incoming = record.messageAttributes ?? {};
  const redriveCount = incoming.redrive_count?.stringValue;
  const own: Record<string, string> = {
    failure_kind: kind,
    failure_reason: reason,
    source_message_id: record.messageId,
    receive_count: String(receiveCountOf(record)),
    original_message_id: incoming.original_message_id?.stringValue ?? record.messageId,
    ...(redriveCount !== undefined && { redrive_count: redriveCount }),
  };
  const carried = Object.entries(incoming)
    .filter(([name, value]) => !(name in own) && value.stringValue !== undefined)
    .slice(0, MAX_MESSAGE_ATTRIBUTES - Object.keys(own).length)
    .map(([name, value]) => [name, value.stringValue!]);
  return { ...Object.fromEntries(carried), ...own };
}

async function moveToDlq(dlqName: string, record: SQSRecord, kind: 'poison' | 'exhausted', error: unknown) {
  const reason = describeError(error).slice(0, 1024);
  const groupId = record.attributes.MessageGroupId;
  // Only a poison or exhausted record needs SQS here: the client (about 25 KiB and 8 ms of a cold
  // start) loads with the first such record instead of at every cold start of a worker that sends
  // nothing else (processTasks, processEpisodes, notify, ...).
  const { sendMessage } = await import('@offload/aws/sqs');
  await sendMessage(dlqName, {
    body: record.body,
    // A FIFO DLQ needs a group; the source's keeps related failures together for redrive.
    ...(dlqName.endsWith('.fifo') && { groupId: groupId ?? 'dlq', deduplicationId: record.messageId }),
    attributes: deadLetterAttributes(record, kind, reason),
  });
  return reason;
}

/** What became of a record: processed, dead-lettered, or left on the queue (the reason kept). */
const PROCESSED = 0;
const DEAD_LETTERED = 1;
const FAILED = 2;
type Outcome = typeof PROCESSED | typeof DEAD_LETTERED | typeof FAILED;

const noDeadline = () => Number.POSITIVE_INFINITY;
const indexOf = (_: unknown, index: number) => index;

/**
 * One invocation's records and what became of each, in arrays indexed like the records. Per
 * record the stack allocates only the handler's context (which is also its log): no closure
 * (bundles keep function names, so each closure also costs a `defineProperty`) and no result
 * object.
 */
class Batch<Schema extends z.ZodMiniType> {
  readonly outcomes: Outcome[];
  readonly reasons: unknown[];
  /** Each record's log, so the stack's own lines about it carry its id and correlation id. */
  readonly logs: (RecordLog | undefined)[];
  readonly remainingTimeMs: () => number;

  constructor(
    readonly options: SqsWorkerOptions<Schema>,
    readonly records: SQSRecord[],
    lambda: Context,
  ) {
    this.outcomes = new Array<Outcome>(records.length).fill(FAILED);
    this.reasons = new Array<unknown>(records.length);
    this.logs = new Array<RecordLog | undefined>(records.length);
    // One closure per invocation: handlers may call it detached from the context.
    this.remainingTimeMs =
      typeof lambda.getRemainingTimeInMillis === 'function'
        ? () => lambda.getRemainingTimeInMillis()
        : noDeadline;
  }

  /**
   * Parse (poison on failure), run the handler, and decide what a failure means. Poison goes to
   * the DLQ at once; a failure on the last allowed receive goes there with its reason too (redrive
   * would move it without one); anything else is retried. Once the message is parsed, its
   * `metadata.traceId` is on every log line about it as `correlation_id`. Never rejects.
   */
  async attempt(index: number): Promise<void> {
    const started = performance.now();
    const record = this.records[index]!;
    const { options } = this;
    const receiveCount = receiveCountOf(record);
    const context = new RecordAttempt(
      record.messageId,
      receiveCount,
      receiveCount >= options.maxReceiveCount,
      record.attributes.MessageGroupId,
      this.remainingTimeMs,
    );
    const log = context;
    this.logs[index] = log;
    try {
      const message = parseMessage(record.body, options.schema);
      log.correlationId = traceIdOf(message);
      await options.recordHandler(message, context);
      this.outcomes[index] = PROCESSED;
    } catch (error) {
      try {
        const poison = error instanceof PoisonMessageError;
        if (!poison && !context.isLastAttempt) throw error;
        const kind = poison ? 'poison' : 'exhausted';
        const reason = await moveToDlq(options.dlqName, record, kind, error);
        log.error('Message moved to DLQ', { kind, reason, receive_count: receiveCount });
        this.outcomes[index] = DEAD_LETTERED;
      } catch (reason) {
        this.reasons[index] = reason;
      }
    } finally {
      // To the microsecond: a full double takes twice as long to write into the EMF line.
      const duration = Math.round((performance.now() - started) * 1000) / 1000;
      metrics.addValue('RecordDuration', MetricUnit.Milliseconds, duration);
    }
  }

  /** Standard queue: every record at once; a failure affects only its own record. */
  all(): Promise<void[]> {
    const attempts = new Array<Promise<void>>(this.records.length);
    for (let index = 0; index < attempts.length; index++) attempts[index] = this.attempt(index);
    return Promise.all(attempts);
  }

  /**
   * FIFO: records of one group run in order and stop at the first failure, which reports that
   * record and every later one of its group as failed; other groups in the batch carry on.
   */
  async fifo(): Promise<void> {
    const { records } = this;
    const first = records[0]?.attributes.MessageGroupId;
    let single = true;
    for (let index = 1; single && index < records.length; index++)
      single = records[index]!.attributes.MessageGroupId === first;
    // One group (every record of a single-group queue such as tasks) needs no map and no Promise.all.
    if (single) return this.group(records.map(indexOf));
    const groups = new Map<string, number[]>();
    for (let index = 0; index < records.length; index++) {
      const group = records[index]!.attributes.MessageGroupId ?? '';
      const indexes = groups.get(group);
      if (indexes === undefined) groups.set(group, [index]);
      else indexes.push(index);
    }
    const running: Promise<void>[] = [];
    for (const indexes of groups.values()) running.push(this.group(indexes));
    await Promise.all(running);
  }

  private async group(indexes: number[]): Promise<void> {
    let failed = false;
    for (const index of indexes) {
      if (failed) this.reasons[index] = new SkippedAfterFailureError('Earlier record failed');
      else {
        await this.attempt(index);
        failed = this.outcomes[index] === FAILED;
      }
    }
  }

  /** Every record failed: only the stack's own code can get here; all stay on the queue. */
  failAll(error: unknown): void {
    this.outcomes.fill(FAILED);
    this.reasons.fill(error);
  }

  /**
   * The batch's counts, exact and always recorded (zeros included): every record is processed,
   * dead-lettered by the worker, or failed (left on the queue for a retry, FIFO records skipped
   * behind a failure included); retried counts the records on their second or later receive,
   * whatever became of them.
   */
  recordMetrics(): void {
    let processed = 0;
    let deadLettered = 0;
    let retried = 0;
    for (const outcome of this.outcomes) {
      if (outcome === PROCESSED) processed++;
      else if (outcome === DEAD_LETTERED) deadLettered++;
    }
    for (const record of this.records) if (receiveCountOf(record) > 1) retried++;
    recordCounts({
      RecordsProcessed: processed,
      RecordsFailed: this.records.length - processed - deadLettered,
      RecordsRetried: retried,
      RecordsDeadLettered: deadLettered,
    });
  }

  /** `batchItemFailures`, logging each failure on the record's own log. */
  response(): SQSBatchResponse {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (let index = 0; index < this.records.length; index++) {
      if (this.outcomes[index] !== FAILED) continue;
      const record = this.records[index]!;
      const reason = this.reasons[index];
      batchItemFailures.push({ itemIdentifier: record.messageId });
      const log = this.logs[index] ?? logger;
      const level = reason instanceof SkippedAfterFailureError ? 'info' : 'warn';
      log[level]('Record failed; it stays on the queue for a retry', {
        message_id: record.messageId,
        receive_count: receiveCountOf(record),
        reason: describeError(reason),
      });
    }
    return { batchItemFailures };
  }
}

/**
 * The SQS stack every worker uses: a throwing `recordHandler` per message in, `batchItemFailures`
 * out (functions set `functionResponseType: ReportBatchItemFailures`). A failing record never
 * fails the batch, and failure logs carry the message id and reason only, never the body. Each
 * batch records RecordsProcessed, RecordsFailed, RecordsRetried, RecordsDeadLettered and one
 * RecordDuration per attempted record, flushed at the end of the invocation.
 *
 * A plain handler, not Middy: it does what Powertools' injectLambdaContext (resetKeys) and
 * logMetrics middlewares do, in the same order, without Middy's per-invocation request object,
 * middleware chain and early-timeout timer (together about as much as the rest of the stack's
 * work on a batch of 10). The handler never throws, so an invocation ends only by returning.
 */
export function sqsWorker<Schema extends z.ZodMiniType>(options: SqsWorkerOptions<Schema>) {
  return async (event: SQSEvent, lambda: Context): Promise<SQSBatchResponse> => {
    logger.refreshSampleRateCalculation();
    logger.addContext(lambda);
    logger.logEventIfEnabled(event);
    dimensionMetrics(lambda);
    try {
      const batch = new Batch(options, event.Records, lambda);
      try {
        await (options.fifo ? batch.fifo() : batch.all());
        batch.recordMetrics();
      } catch (error) {
        batch.failAll(error);
      }
      return batch.response();
    } finally {
      metrics.publishStoredMetrics();
      logger.clearBuffer();
      logger.resetKeys();
    }
  };
}
