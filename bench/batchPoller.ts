import { randomUUID } from 'node:crypto';
import { systemClock } from '@offload/config';
import { openaiBatchProvider } from '../services/batch-poller/src/adapters/openaiBatchProvider';
import { newBatchJob } from '../services/batch-poller/src/domain/batchJobs';
import { pollPass } from '../services/batch-poller/src/domain/poller';
import { submitItems } from '../services/batch-poller/src/domain/submit';
import { memoryStore } from '../services/batch-poller/test/support/memory';
import { startOpenAIStub } from '../tools/openai-stub/server';
import { rowFromSamples, type RowGroup } from './types';

const LATENCY_MS = 50;
const CONCURRENCY = 20;
const ITEMS_PER_JOB = 50;

/**
 * The poller's provider throughput: a real polling pass (the SDK over HTTP, p-limit at 20) against
 * the stand-in answering every call after 50 ms, as a fraction of the limit 20 / 0.05 s = 400
 * items/s. The batches never finish (a phase far longer than the run), so each item costs exactly
 * one provider call and no store write; the store is the unit tests' in-memory one, so only the
 * provider path is measured.
 */
export const run: RowGroup = async ({ quick, log }) => {
  const stub = await startOpenAIStub({
    latencyMs: 0,
    batchPhasesMs: { validatingMs: 3_600_000, inProgressMs: 0, finalizingMs: 0 },
  });
  // The provider reads these; they are put back afterwards, or every local stack a later group
  // starts would inherit them and call this stand-in after it stopped.
  const saved = { OPENAI_BASE_URL: process.env.OPENAI_BASE_URL, OPENAI_API_KEY: process.env.OPENAI_API_KEY };
  process.env.OPENAI_BASE_URL = stub.url;
  process.env.OPENAI_API_KEY = 'bench';
  try {
    const provider = openaiBatchProvider({
      model: 'stub',
      maxRetries: 0,
      timeoutMs: 10_000,
      onRetry: () => {},
    });
    const { store } = memoryStore();
    const deps = {
      store,
      provider,
      clock: systemClock,
      hasTime: () => true,
      newToken: randomUUID,
      warn: (message: string) => log(`warning: ${message}`),
    };
    const options = { claimStaleMs: 120_000, defaultMaxTokens: 256 };
    const jobs = quick ? 4 : 40;
    log(`batch-poller: submitting ${jobs * ITEMS_PER_JOB} items to the stand-in`);
    for (let j = 0; j < jobs; j++) {
      const body = { items: Array.from({ length: ITEMS_PER_JOB }, (_, i) => ({ input: `item ${j}.${i}` })) };
      const { job, items } = newBatchJob(body, 'bench', randomUUID(), new Date().toISOString(), 256);
      await store.createJob(job, items);
      await submitItems(deps, options, job, items, CONCURRENCY);
    }

    await fetch(new URL('/_stub/config', stub.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: LATENCY_MS }),
    });
    const rates: number[] = [];
    const rounds = quick ? 2 : 5;
    for (let round = 0; round <= rounds; round++) {
      const started = performance.now();
      const stats = await pollPass(deps, {
        ...options,
        maxItemsPerJob: ITEMS_PER_JOB,
        concurrency: CONCURRENCY,
        cleanupsPerPass: 0,
      });
      const seconds = (performance.now() - started) / 1000;
      if (stats.errors > 0) throw new Error(`${stats.errors} provider calls failed during the pass`);
      // The first pass warms connections and the JIT; it is not counted.
      if (round > 0) rates.push(stats.itemsPolled / seconds);
      log(`batch-poller pass ${round}: ${stats.itemsPolled} items in ${seconds.toFixed(2)} s`);
    }
    const limit = CONCURRENCY / (LATENCY_MS / 1000);
    return [
      rowFromSamples(
        {
          group: 'batch-poller',
          name: `items polled, concurrency ${CONCURRENCY}, ${LATENCY_MS} ms stand-in`,
          unit: 'items/s',
          baseline: `limit ${CONCURRENCY} / ${LATENCY_MS / 1000} s`,
        },
        rates,
        rates.map(() => limit),
      ),
    ];
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await stub.stop();
  }
};
