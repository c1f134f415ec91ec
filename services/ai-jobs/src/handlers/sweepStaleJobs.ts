import { logger, recordCounts, scheduled } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { eventsConfig, sweeperConfig, tables } from '../config';
import { sweepStaleJobs } from '../domain/jobs';

const config = { ...tables(), ...sweeperConfig(), ...eventsConfig() };
const deps = {
  store: dynamoJobStore(config.JOBS_TABLE_NAME),
  clock: { now: () => new Date() },
  events: eventPublisher(config.EVENTS_TOPIC_ARN),
};

/** On its schedule: fails the jobs whose processor died on every attempt without a result. */
export const handler = scheduled(async () => {
  const report = await sweepStaleJobs(deps, config.STALE_AFTER_SECONDS * 1000);
  recordCounts({ StaleJobsFound: report.found, StaleJobsFailed: report.failed });
  if (report.failed > 0) logger.warn('Stale jobs failed', { ...report });
  else logger.info('Stale job sweep', { ...report });
  return report;
});
