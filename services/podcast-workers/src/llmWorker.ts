import { systemClock } from '@offload/config';
import { openaiLlm } from '@offload/llm';
import { dynamoEpisodeStore } from './adapters/dynamoEpisodeStore';
import { tables, workerConfig } from './config';

/**
 * What both LLM workers (episode processing, podcast generation) are built from, once per cold
 * start: their queue's redrive settings for sqsWorker, the episode store, the model and the clock.
 */
export function llmWorker() {
  const config = { ...tables(), ...workerConfig() };
  return {
    config,
    queue: { dlqName: config.DLQ_NAME, maxReceiveCount: config.MAX_RECEIVE_COUNT },
    deps: {
      episodes: dynamoEpisodeStore(config.EPISODES_TABLE_NAME),
      llm: openaiLlm({
        model: config.OPENAI_MODEL,
        maxRetries: config.OPENAI_MAX_RETRIES,
        timeoutMs: config.OPENAI_TIMEOUT_MS,
      }),
      clock: systemClock,
    },
  };
}
