import { podcastGenerationV1 } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { generateEpisode, workBudgetMs } from '../domain/podcasts';
import { llmWorker } from '../llmWorker';

const { config, queue, deps: workerDeps } = llmWorker();
const deps = { ...workerDeps, podcasts: dynamoPodcastStore(config.PODCASTS_TABLE_NAME) };

/**
 * Podcast-generation worker: the due episode, once, however often the message arrives, within the
 * time the invocation has left (a slow LLM call fails with a reason the DLQ keeps).
 */
export const handler = sqsWorker({
  schema: podcastGenerationV1,
  ...queue,
  recordHandler: async (message, { log, remainingTimeMs }) => {
    const outcome = await generateEpisode(deps, message, { budgetMs: workBudgetMs(remainingTimeMs()) });
    log.info('Podcast generation handled', { podcast_id: message.data.podcastId, outcome });
  },
});
