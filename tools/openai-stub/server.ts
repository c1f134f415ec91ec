import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { batchRoutes } from './batches';
import { chatRoutes } from './chat';
import { controlRoutes } from './control';
import { fileRoutes } from './files';
import { apiError, ClientError, compileRoute, send, sleep } from './http';
import { StubState, type StubOptions } from './state';

export type { BatchPhases } from './batchTypes';
export type { StubOptions } from './state';

/**
 * A small stateful OpenAI-compatible stand-in for local runs and tests: chat completions with
 * deterministic output, configurable latency, and error injection matched on prompt text. Product
 * code reaches it only through OPENAI_BASE_URL; nothing in services/ imports it.
 *
 * It also keeps the Files and Batch APIs in memory (/v1/files, /v1/batches) for chat-completion
 * batches. A batch's status follows the time since it was created: `validating` for validatingMs,
 * `in_progress` for inProgressMs, `finalizing` for finalizingMs, then `completed` (defaults
 * 100/300/100 ms); the output file appears when a request first observes `completed`. Each batch
 * keeps the phase durations and outcome in force when it was created, so changing the config later
 * never moves a running batch. Unset timestamps and file ids are null, as the real API sends them.
 *
 * Control API (global to the process, so concurrent suites sharing one stub see each other's
 * settings):
 * - POST /_stub/faults {match, status?, times?} and DELETE /_stub/faults: chat completion failures.
 * - POST /_stub/delays {match, delayMs, times?} and DELETE /_stub/delays: chat completions whose
 *   prompt contains `match` answer `delayMs` later (times defaults to 1; 'always' for every one).
 * - POST /_stub/config, every field optional: latencyMs (also delays file and batch routes),
 *   rateLimitShare 0..1 (that share of /v1/files* and /v1/batches* requests, spread evenly, is
 *   answered 429 rate_limit_exceeded; chat completions are never rate limited), retryAfterMs (sent
 *   as `retry-after-ms` on those 429s; null removes it, and without it no retry header is sent so
 *   the SDK backs off on its own), batchPhasesMs {validatingMs?, inProgressMs?, finalizingMs?}.
 * - POST /_stub/batch-outcomes {match, outcome: 'failed' | 'expired' | 'item_error'}: a batch created
 *   later whose input file contains `match` ends that way; DELETE /_stub/batch-outcomes clears them.
 * - POST /_stub/answers {match, contentChars?} and DELETE /_stub/answers: counts the chat
 *   completions whose prompt contains `match` (GET /_stub/stats `answers`, faulted calls included)
 *   and, with contentChars, answers them with that many characters (an oversized result).
 * - DELETE /_stub/state: drops files, batches, outcomes, faults, delays and counters and restores the
 *   config the stub was started with.
 * - GET /_stub/stats: chat counters plus batchRequests, rateLimited, files and batches by status,
 *   and filesCreated, filesDeleted, batchesCreated and idempotentReplays since the last reset.
 *
 * POST /v1/files and POST /v1/batches honour `Idempotency-Key` as the real API does: a request
 * with a key already used on that route creates nothing and answers the object the first one
 * created (a request still in flight with that key is waited for); a failed request keeps no key.
 * - GET /_stub/chat-count?match=text: how many chat completion requests had `text` in their prompt
 *   (the last 10,000 prompts are kept), so a test counts its own job's calls among other suites'.
 */
export interface OpenAIStub {
  url: string;
  stop(): Promise<void>;
}

/** Rate limiting and latency for the Files and Batch APIs; false when the request was answered. */
async function admitBatchRequest(state: StubState, res: ServerResponse): Promise<boolean> {
  state.batchStats.batchRequests += 1;
  state.rateLimitCredit += state.rateLimitShare;
  if (state.rateLimitCredit >= 1) {
    state.rateLimitCredit -= 1;
    state.batchStats.rateLimited += 1;
    if (state.retryAfterMs !== undefined) res.setHeader('retry-after-ms', String(state.retryAfterMs));
    send(res, 429, {
      error: {
        message: 'Rate limit reached for requests (injected by the stand-in)',
        type: 'rate_limit_exceeded',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    return false;
  }
  await sleep(state.latencyMs);
  return true;
}

export async function startOpenAIStub(options: StubOptions = {}): Promise<OpenAIStub> {
  const state = new StubState(options);
  const table = {
    ...chatRoutes(state),
    ...fileRoutes(state),
    ...batchRoutes(state),
    ...controlRoutes(state),
  };
  const routes = Object.entries(table).map(([key, handler]) => compileRoute(key, handler));

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const handle = async () => {
      if (/^\/v1\/(files|batches)(\/|$)/.test(path) && !(await admitBatchRequest(state, res))) return;
      for (const match of routes) {
        const found = match(method, path);
        if (found) return found.handler(req, res, found.params);
      }
      apiError(res, 404, `No route ${method} ${path}`);
    };
    handle().catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof ClientError)
        return send(res, error.status, {
          error: { message: error.message, type: 'invalid_request_error', param: error.param, code: null },
        });
      apiError(res, 500, String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
