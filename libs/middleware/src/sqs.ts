import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
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
 * most of the stack's per-record cost.
 */
function recordLog(keys: LogFields): RecordLog {
  const at =
    (level: keyof RecordLog) =>
    (message: string, fields: LogFields = {}) =>
      logger[level](message, { ...keys, ...fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A FIFO record not attempted because an earlier record of its group failed in this batch. */
export class SkippedAfterFailureError extends OffloadError {}

/** What became of a record that did not stay on the queue. */
type Outcome = 'processed' | 'dead-lettered';
type Settled = PromiseSettledResult<Outcome>;

/** Each record's log, so the stack's own lines about a record carry its id and correlation id. */
const recordLogs = new WeakMap<SQSRecord, RecordLog>();

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
  return async (record: SQSRecord, lambda: Context): Promise<Outcome> => {
    const started = performance.now();
    const keys: LogFields = { message_id: record.messageId };
    const context: RecordContext = {
      messageId: record.messageId,
      receiveCount: receiveCountOf(record),
      groupId: record.attributes.MessageGroupId,
      log: recordLog(keys),
      remainingTimeMs: () =>
        typeof lambda.getRemainingTimeInMillis === 'function'
          ? lambda.getRemainingTimeInMillis()
          : Number.POSITIVE_INFINITY,
    };
    recordLogs.set(record, context.log);
    try {
      const message = parseMessage(record.body, options.schema);
      const traceId = traceIdOf(message);
      if (traceId) keys.correlation_id = traceId;
      await options.recordHandler(message, context);
      return 'processed';
    } catch (error) {
      const poison = error instanceof PoisonMessageError;
      if (!poison && context.receiveCount < options.maxReceiveCount) throw error;
      const kind = poison ? 'poison' : 'exhausted';
      const reason = await moveToDlq(options.dlqName, record, kind, error);
      context.log.error('Message moved to DLQ', { kind, reason, receive_count: context.receiveCount });
      return 'dead-lettered';
    } finally {
      metrics.addMetric('RecordDuration', MetricUnit.Milliseconds, performance.now() - started);
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
  const outcomes = settled.map((result) => (result.status === 'fulfilled' ? result.value : 'failed'));
  const count = (outcome: string) => outcomes.filter((candidate) => candidate === outcome).length;
  recordCounts({
    RecordsProcessed: count('processed'),
    RecordsFailed: count('failed'),
    RecordsRetried: records.filter((record) => receiveCountOf(record) > 1).length,
    RecordsDeadLettered: count('dead-lettered'),
  });
}

/**
 * FIFO: records of one group run in order and stop at the first failure, which reports that
 * record and every later one of its group as failed; other groups in the batch carry on.
 */
async function processFifo(records: SQSRecord[], process: (record: SQSRecord) => Promise<Outcome>) {
  const settled: Settled[] = new Array(records.length);
  const groups = new Map<string, number[]>();
  records.forEach((record, index) => {
    const group = record.attributes.MessageGroupId ?? '';
    groups.set(group, [...(groups.get(group) ?? []), index]);
  });
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      let failed = false;
      for (const index of indexes) {
        if (failed) {
          settled[index] = {
            status: 'rejected',
            reason: new SkippedAfterFailureError('Earlier record failed'),
          };
          continue;
        }
        try {
          settled[index] = { status: 'fulfilled', value: await process(records[index]!) };
        } catch (reason) {
          failed = true;
          settled[index] = { status: 'rejected', reason };
        }
      }
    }),
  );
  return settled;
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
  const handler = async (event: SQSEvent, lambda: Context): Promise<Settled[]> => {
    const run = (record: SQSRecord) => process(record, lambda);
    const settled = options.fifo
      ? await processFifo(event.Records, run)
      : await Promise.allSettled(event.Records.map(run));
    recordBatchMetrics(event.Records, settled);
    return settled;
  };

  return middy<SQSEvent, SQSBatchResponse, Error, Context>(
    handler as unknown as (event: SQSEvent, lambda: Context) => Promise<SQSBatchResponse>,
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(flushMetrics())
    .use(
      sqsPartialBatchFailure({
        logger: (reason: unknown, record: SQSRecord) => {
          const log = recordLogs.get(record) ?? logger;
          const level = reason instanceof SkippedAfterFailureError ? 'info' : 'warn';
          log[level]('Record failed; it stays on the queue for a retry', {
            message_id: record.messageId,
            receive_count: receiveCountOf(record),
            reason: describeError(reason),
          });
        },
      }),
    );
}
