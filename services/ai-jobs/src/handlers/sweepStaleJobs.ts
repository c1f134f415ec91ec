import { logger, recordCounts, scheduled } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { systemClock } from '@offload/config';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { snsJobPublisher } from '../adapters/snsJobPublisher';
import { eventsConfig, sweeperConfig, tables } from '../config';
import { sweepStaleJobs } from '../domain/jobs';

const config = { ...tables(), ...sweeperConfig(), ...eventsConfig() };
const deps = {
  store: dynamoJobStore(config.JOBS_TABLE_NAME),
  clock: systemClock,
  publisher: snsJobPublisher(config.JOBS_TOPIC_ARN),
  events: eventPublisher(config.EVENTS_TOPIC_ARN),
};
const options = {
  staleAfterMs: config.STALE_AFTER_SECONDS * 1000,
  queuedAfterMs: config.QUEUED_AFTER_SECONDS * 1000,
  maxRepublishes: config.MAX_REPUBLISHES,
};

/**
 * On its schedule: fails the jobs whose processor died on every attempt without a result, and
 * publishes again (then fails) the jobs that stayed queued because their delivery was lost.
 */
export const handler = scheduled(async () => {
  const report = await sweepStaleJobs(deps, options);
  recordCounts({
    StaleJobsFound: report.found,
    StaleJobsFailed: report.failed,
    StaleJobsRepublished: report.republished,
  });
  if (report.failed > 0) logger.warn('Stale jobs failed', { ...report });
  else logger.info('Stale job sweep', { ...report });
  return report;
});
