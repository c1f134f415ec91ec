import { correlationIdOf, httpApi, json, logger, recordCounts, scheduled } from '@offload/middleware';
import type { PublishReport, PublishRun } from './domain/podcasts';

/** How a publisher names itself in its log lines and metrics. */
export interface PublisherNames {
  /** The run's summary line, e.g. `Episode checker run`. */
  run: string;
  /** The line for each unreadable record skipped, e.g. `Unreadable episode skipped`. */
  unreadable: string;
  /** The log field holding an unreadable record's key, e.g. `episode_id`. */
  keyField: string;
}

/**
 * A publisher's two entry points (the episode checker and the podcast scheduler have both): its
 * EventBridge schedule, and an operator-only POST running the same on demand that answers 202 at
 * once with the counts. Every message a run sends carries the run's correlation id as `traceId`;
 * an unreadable record is logged with its key and skipped while the others are sent all the same.
 * `metrics` adds a publisher's own counts to the ones every run records.
 */
export function publisherHandlers<Report extends PublishReport>(
  publish: (traceId: string) => Promise<PublishRun & { report: Report }>,
  names: PublisherNames,
  metrics: (report: Report) => Record<string, number> = () => ({}),
) {
  async function run(traceId: string): Promise<Report> {
    const { report, unreadable } = await publish(traceId);
    for (const record of unreadable)
      logger.error(names.unreadable, { [names.keyField]: record.key, reason: record.reason });
    const line: PublishReport = report;
    logger.info(names.run, { ...line });
    return report;
  }
  return {
    scheduledHandler: scheduled(async (_event, context) => {
      const report = await run(correlationIdOf(context));
      recordCounts({
        WorkFound: report.found,
        MessagesSent: report.sent,
        MessagesNotSent: report.failed,
        UnreadableRecords: report.skipped,
        ...metrics(report),
      });
      return report;
    }),
    // It acts on every caller's records, so it takes an operator key (403 for others).
    httpHandler: httpApi(async (_event, context) => json(202, await run(correlationIdOf(context))), {
      role: 'operator',
    }),
  };
}
