import { logger, recordCounts, scheduled } from '@offload/middleware';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { sweeperConfig, tables } from '../config';
import { sweepStaleJobs } from '../domain/jobs';

const config = { ...tables(), ...sweeperConfig() };
const deps = { store: dynamoJobStore(config.JOBS_TABLE_NAME), clock: { now: () => new Date() } };

/** On its schedule: fails the jobs whose processor died on every attempt without a result. */
export const handler = scheduled(async () => {
  const report = await sweepStaleJobs(deps, config.STALE_AFTER_SECONDS * 1000);
  recordCounts({ StaleJobsFound: report.found, StaleJobsFailed: report.failed });
  if (report.failed > 0) logger.warn('Stale jobs failed', { ...report });
  else logger.info('Stale job sweep', { ...report });
  return report;
});
