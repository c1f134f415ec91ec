import { logger } from '@offload/middleware';
import { providerConfig } from '../config';
import { openaiBatchProvider } from './openaiBatchProvider';

const config = providerConfig();
let backoffs = 0;

/** The provider every function of this service uses, its SDK retries logged as backoff lines. */
export const provider = openaiBatchProvider({
  model: config.OPENAI_MODEL,
  maxRetries: config.OPENAI_MAX_RETRIES,
  timeoutMs: config.OPENAI_TIMEOUT_MS,
  onRetry: (detail) => {
    backoffs += 1;
    logger.warn('Provider call backing off', { detail });
  },
});

/** Backoffs since the last call: a run reports how often the provider pushed back. */
export function takeBackoffs(): number {
  const count = backoffs;
  backoffs = 0;
  return count;
}

export const submitConcurrency = config.SUBMIT_CONCURRENCY;
