import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod';
import { sendMessage } from '@offload/aws/sqs';
import { describeError, OffloadError, PoisonMessageError } from '@offload/errors';
import { parseMessage } from '@offload/messages';
import { logger, traceIdOf } from './logger';
import { flushMetrics, metrics, MetricUnit, recordCounts } from './metrics';

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

export interface SqsWorkerOptions<Schema extends z.ZodType> {
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
  constructor(readonly keys: LogFields) {}
  debug(message: string, fields?: LogFields) {
    logger.debug(message, { ...this.keys, ...fields });
  }
  info(message: string, fields?: LogFields) {
    logger.info(message, { ...this.keys, ...fields });
  }
  warn(message: string, fields?: LogFields) {
    logger.warn(message, { ...this.keys, ...fields });
  }
  error(message: string, fields?: LogFields) {
    logger.error(message, { ...this.keys, ...fields });
  }
}

/** A FIFO record not attempted because an earlier record of its group failed in this batch. */
export class SkippedAfterFailureError extends OffloadError {}

/** What became of a record that did not stay on the queue. */
type Outcome = 'processed' | 'dead-lettered';
/**
 * A record's result, with its log so the stack's own lines about it carry its id and correlation
 * id. (A WeakMap from record to log cost about 3 µs a record in the bench, half the stack's cost.)
 */
type Settled =
  | { status: 'fulfilled'; value: Outcome; log?: RecordLog }
  | { status: 'rejected'; reason: unknown; log?: RecordLog };

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
  await sendMessage(dlqName, {
    body: record.body,
    // A FIFO DLQ needs a group; the source's keeps related failures together for redrive.
    ...(dlqName.endsWith('.fifo') && { groupId: groupId ?? 'dlq', deduplicationId: record.messageId }),
    attributes: deadLetterAttributes(record, kind, reason),
  });
  return reason;
}

/**
 * Builds the per-record pipeline: parse (poison on failure), run the handler, and decide what a
 * failure means. Poison goes to the DLQ at once; a failure on the last allowed receive goes there
 * with its reason too (redrive would move it without one); anything else is retried. Once the
 * message is parsed, its `metadata.traceId` is on every log line about it as `correlation_id`.
 */
function recordProcessor<Schema extends z.ZodType>(options: SqsWorkerOptions<Schema>) {
  return async (record: SQSRecord, lambda: Context): Promise<Settled> => {
    const started = performance.now();
    const keys: LogFields = { message_id: record.messageId };
    const log = new KeyedLog(keys);
    const context: RecordContext = {
      messageId: record.messageId,
      receiveCount: receiveCountOf(record),
      isLastAttempt: receiveCountOf(record) >= options.maxReceiveCount,
      groupId: record.attributes.MessageGroupId,
      log,
      remainingTimeMs: () =>
        typeof lambda.getRemainingTimeInMillis === 'function'
          ? lambda.getRemainingTimeInMillis()
          : Number.POSITIVE_INFINITY,
    };
    try {
      const message = parseMessage(record.body, options.schema);
      const traceId = traceIdOf(message);
      if (traceId) keys.correlation_id = traceId;
      await options.recordHandler(message, context);
      return { status: 'fulfilled', value: 'processed', log };
    } catch (error) {
      try {
        const poison = error instanceof PoisonMessageError;
        if (!poison && context.receiveCount < options.maxReceiveCount) throw error;
        const kind = poison ? 'poison' : 'exhausted';
        const reason = await moveToDlq(options.dlqName, record, kind, error);
        log.error('Message moved to DLQ', { kind, reason, receive_count: context.receiveCount });
        return { status: 'fulfilled', value: 'dead-lettered', log };
      } catch (reason) {
        return { status: 'rejected', reason, log };
      }
    } finally {
      metrics.addValue('RecordDuration', MetricUnit.Milliseconds, performance.now() - started);
    }
  };
}

/**
 * The batch's counts, exact and always recorded (zeros included): every record is processed,
 * dead-lettered by the worker, or failed (left on the queue for a retry, FIFO records skipped
 * behind a failure included); retried counts the records on their second or later receive,
 * whatever became of them.
 */
function recordBatchMetrics(records: SQSRecord[], settled: Settled[]) {
  let processed = 0;
  let deadLettered = 0;
  let retried = 0;
  for (const result of settled) {
    if (result.status === 'rejected') continue;
    if (result.value === 'processed') processed++;
    else deadLettered++;
  }
  for (const record of records) if (receiveCountOf(record) > 1) retried++;
  recordCounts({
    RecordsProcessed: processed,
    RecordsFailed: settled.length - processed - deadLettered,
    RecordsRetried: retried,
    RecordsDeadLettered: deadLettered,
  });
}

/**
 * FIFO: records of one group run in order and stop at the first failure, which reports that
 * record and every later one of its group as failed; other groups in the batch carry on.
 */
async function processFifo(records: SQSRecord[], process: (record: SQSRecord) => Promise<Settled>) {
  const settled: Settled[] = new Array(records.length);
  const groups = new Map<string, number[]>();
  for (let index = 0; index < records.length; index++) {
    const group = records[index]!.attributes.MessageGroupId ?? '';
    const indexes = groups.get(group);
    if (indexes === undefined) groups.set(group, [index]);
    else indexes.push(index);
  }
  const runGroup = async (indexes: number[]) => {
    let failed = false;
    for (const index of indexes) {
      settled[index] = failed
        ? { status: 'rejected', reason: new SkippedAfterFailureError('Earlier record failed') }
        : await process(records[index]!);
      failed ||= settled[index]!.status === 'rejected';
    }
  };
  // One group (every record of a single-group queue such as tasks) needs no Promise.all.
  if (groups.size === 1) await runGroup([...groups.values()][0]!);
  else await Promise.all([...groups.values()].map(runGroup));
  return settled;
}

/** Standard queue: every record at once; a failure affects only its own record. */
function processAll(records: SQSRecord[], process: (record: SQSRecord) => Promise<Settled>) {
  return Promise.all(records.map(process));
}

/**
 * `batchItemFailures` from the records' results, logging each failure on the record's own log:
 * what Middy's sqs-partial-batch-failure does, with the log carried in the result.
 */
function batchResponse(records: SQSRecord[], settled: Settled[]): SQSBatchResponse {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (let index = 0; index < records.length; index++) {
    const result = settled[index]!;
    if (result.status === 'fulfilled') continue;
    const record = records[index]!;
    batchItemFailures.push({ itemIdentifier: record.messageId });
    const log = result.log ?? logger;
    const level = result.reason instanceof SkippedAfterFailureError ? 'info' : 'warn';
    log[level]('Record failed; it stays on the queue for a retry', {
      message_id: record.messageId,
      receive_count: receiveCountOf(record),
      reason: describeError(result.reason),
    });
  }
  return { batchItemFailures };
}

/**
 * The SQS stack every worker uses: a throwing `recordHandler` per message in, `batchItemFailures`
 * out (functions set `functionResponseType: ReportBatchItemFailures`). A failing record never
 * fails the batch, and failure logs carry the message id and reason only, never the body. Each
 * batch records RecordsProcessed, RecordsFailed, RecordsRetried, RecordsDeadLettered and one
 * RecordDuration per attempted record, flushed at the end of the invocation.
 */
export function sqsWorker<Schema extends z.ZodType>(options: SqsWorkerOptions<Schema>) {
  const process = recordProcessor(options);
  const handler = async (event: SQSEvent, lambda: Context): Promise<SQSBatchResponse> => {
    const records = event.Records;
    let settled: Settled[];
    try {
      const run = (record: SQSRecord) => process(record, lambda);
      settled = options.fifo ? await processFifo(records, run) : await processAll(records, run);
      recordBatchMetrics(records, settled);
    } catch (error) {
      // Only the stack's own code can land here; the whole batch stays on the queue for a retry.
      settled = records.map(() => ({ status: 'rejected', reason: error }));
    }
    return batchResponse(records, settled);
  };

  return middy<SQSEvent, SQSBatchResponse, Error, Context>(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics());
}
