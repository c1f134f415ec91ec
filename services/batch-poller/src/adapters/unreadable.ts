import { logger } from '@offload/middleware';
import type { UnreadableRecord } from '../domain/records';

/**
 * Logs a skipped record with its key (never its content) and counts it; the poller reports the
 * count as the `UnreadableRecords` metric, which has an alarm.
 */
export function unreadableReporter() {
  let count = 0;
  return {
    report(record: UnreadableRecord) {
      count += 1;
      logger.error('Unreadable record skipped', {
        table: record.table,
        key: record.key,
        reason: record.reason,
      });
    },
    /** Records skipped since the last call. */
    take(): number {
      const taken = count;
      count = 0;
      return taken;
    },
  };
}
