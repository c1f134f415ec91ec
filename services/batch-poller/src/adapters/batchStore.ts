import { logger } from '@offload/middleware';
import { tables } from '../config';
import { dynamoBatchStore } from './dynamoBatchStore';
import { unreadableReporter } from './unreadable';

/**
 * The batch store every handler uses, on the tables its config names. A record that does not
 * parse is reported (logged by key and counted) and skipped rather than failing the call.
 */
export function batchStore(unreadable = unreadableReporter()) {
  const config = tables();
  return dynamoBatchStore(config.BATCH_JOBS_TABLE_NAME, config.BATCH_ITEMS_TABLE_NAME, unreadable.report);
}

/** Domain warnings go to the shared logger with their fields. */
export const warn = (message: string, fields: Record<string, unknown>) => logger.warn(message, fields);
