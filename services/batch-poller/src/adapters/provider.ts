import { logger } from '@offload/middleware';
import { providerConfig } from '../config';
import { openaiBatchProvider } from './openaiBatchProvider';

/**
 * The provider a function of this service calls, its SDK retries logged as backoff lines and
 * counted. A handler creates one at module scope, so the count lives as long as its container.
 */
export function batchProvider(config = providerConfig()) {
  let backoffs = 0;
  const provider = openaiBatchProvider({
    model: config.OPENAI_MODEL,
    maxRetries: config.OPENAI_MAX_RETRIES,
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    onRetry: (detail) => {
      backoffs += 1;
      logger.warn('Provider call backing off', { detail });
    },
  });
  return {
    provider,
    submitConcurrency: config.SUBMIT_CONCURRENCY,
    /** Backoffs since the last call: a run reports how often the provider pushed back. */
    takeBackoffs(): number {
      const count = backoffs;
      backoffs = 0;
      return count;
    },
  };
}
