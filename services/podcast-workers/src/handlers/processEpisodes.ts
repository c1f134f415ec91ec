import { openaiLlm } from '@offload/llm';
import { episodeProcessingV1 } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { dynamoEpisodeStore } from '../adapters/dynamoPodcastStore';
import { tables, workerConfig } from '../config';
import { processEpisode, workBudgetMs } from '../domain/podcasts';

const config = { ...tables(), ...workerConfig() };
const deps = {
  episodes: dynamoEpisodeStore(config.EPISODES_TABLE_NAME),
  llm: openaiLlm({
    model: config.OPENAI_MODEL,
    maxRetries: config.OPENAI_MAX_RETRIES,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
  }),
  clock: { now: () => new Date() },
};

/**
 * Episode-processing worker: pending -> processed with summary and show notes, within the time
 * the invocation has left (less a margin to record the outcome).
 */
export const handler = sqsWorker({
  schema: episodeProcessingV1,
  dlqName: config.DLQ_NAME,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  recordHandler: async (message, { receiveCount, isLastAttempt, log, remainingTimeMs }) => {
    const outcome = await processEpisode(deps, message, {
      isLastAttempt,
      budgetMs: workBudgetMs(remainingTimeMs()),
    });
    log.info('Episode processing handled', {
      episode_id: message.data.episodeId,
      outcome,
      receive_count: receiveCount,
    });
  },
});
