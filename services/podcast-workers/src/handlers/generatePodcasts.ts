import { openaiLlm } from '@offload/llm';
import { podcastGenerationV1 } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoEpisodeStore } from '../adapters/dynamoEpisodeStore';
import { dynamoPodcastStore } from '../adapters/dynamoPodcastStore';
import { tables, workerConfig } from '../config';
import { generateEpisode, workBudgetMs } from '../domain/podcasts';

const config = { ...tables(), ...workerConfig() };
const deps = {
  podcasts: dynamoPodcastStore(config.PODCASTS_TABLE_NAME),
  episodes: dynamoEpisodeStore(config.EPISODES_TABLE_NAME),
  llm: openaiLlm({
    model: config.OPENAI_MODEL,
    maxRetries: config.OPENAI_MAX_RETRIES,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
  }),
  clock: systemClock,
};

/**
 * Podcast-generation worker: the due episode, once, however often the message arrives, within the
 * time the invocation has left (a slow LLM call fails with a reason the DLQ keeps).
 */
export const handler = sqsWorker({
  schema: podcastGenerationV1,
  dlqName: config.DLQ_NAME,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  recordHandler: async (message, { log, remainingTimeMs }) => {
    const outcome = await generateEpisode(deps, message, { budgetMs: workBudgetMs(remainingTimeMs()) });
    log.info('Podcast generation handled', { podcast_id: message.data.podcastId, outcome });
  },
});
