import { openaiLlm } from '@offload/llm';
import { jobRequested } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { eventPublisher } from '@offload/middleware/events';
import { systemClock } from '@offload/config';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { sqsResultSender } from '../adapters/sqsResultSender';
import { eventsConfig, tables, workerConfig } from '../config';
import { jobBudgetMs, processJob } from '../domain/jobs';

const config = { ...tables(), ...workerConfig(), ...eventsConfig() };
const deps = {
  store: dynamoJobStore(config.JOBS_TABLE_NAME),
  llm: openaiLlm({
    model: config.OPENAI_MODEL,
    maxRetries: config.OPENAI_MAX_RETRIES,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    maxTokens: config.OPENAI_MAX_TOKENS,
  }),
  results: sqsResultSender(config.RESPONSE_QUEUE_NAME),
  clock: systemClock,
  events: eventPublisher(config.EVENTS_TOPIC_ARN),
};

/** Request-queue worker (normal and high-priority queues): runs each job, sends its result. */
export const handler = sqsWorker({
  schema: jobRequested,
  dlqName: config.REQUEST_DLQ_NAME,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  recordHandler: async (message, { receiveCount, isLastAttempt, log, remainingTimeMs }) => {
    const report = await processJob(deps, message, {
      isLastAttempt,
      budgetMs: jobBudgetMs(remainingTimeMs()),
    });
    const fields = { job_id: message.data.job_id, outcome: report.outcome, receive_count: receiveCount };
    // The job ended failed with a public code; the reason (chain included) is for operators only.
    if (report.failure)
      log.warn('Job result undeliverable', { ...fields, code: report.failure.code, reason: report.reason });
    else log.info('Job processed', fields);
  },
});
