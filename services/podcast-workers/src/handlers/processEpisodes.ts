import { episodeProcessingV1 } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { processEpisode, workBudgetMs } from '../domain/podcasts';
import { llmWorker } from '../llmWorker';

const { queue, deps } = llmWorker();

/**
 * Episode-processing worker: pending -> processed with summary and show notes, within the time
 * the invocation has left (less a margin to record the outcome).
 */
export const handler = sqsWorker({
  schema: episodeProcessingV1,
  ...queue,
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
