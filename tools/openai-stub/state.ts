import type { IncomingMessage } from 'node:http';
import type { BatchOutcome, BatchPhases, BatchRecord, StoredFile } from './batchTypes';
import { readBody, send, type Handler } from './http';

/** A rule matched on prompt (or batch input) text, used `remaining` more times. */
export interface Fault {
  match: string;
  status: number;
  remaining: number;
}

export interface Delay {
  match: string;
  delayMs: number;
  remaining: number;
}

export interface Answer {
  match: string;
  contentChars?: number;
  calls: number;
}

export interface Outcome {
  match: string;
  kind: BatchOutcome;
}

export interface StubOptions {
  port?: number;
  latencyMs?: number;
  batchPhasesMs?: Partial<BatchPhases>;
}

const DEFAULT_PHASES: BatchPhases = { validatingMs: 100, inProgressMs: 300, finalizingMs: 100 };
const PROMPTS_KEPT = 10_000;

const zeroBatchStats = () => ({
  batchRequests: 0,
  rateLimited: 0,
  filesCreated: 0,
  filesDeleted: 0,
  batchesCreated: 0,
  idempotentReplays: 0,
});

/**
 * Everything one stand-in process remembers, shared by its chat, files, batches and control
 * routes. Global to the process on purpose: concurrent suites sharing one stand-in see each
 * other's settings, as they would share one real account.
 */
export class StubState {
  readonly initialPhases: BatchPhases;
  latencyMs: number;
  rateLimitShare = 0;
  retryAfterMs: number | undefined;
  batchPhases: BatchPhases;
  // Grows by rateLimitShare per request and limits one request each time it reaches 1, so a share
  // is exact and reproducible rather than a coin toss per request.
  rateLimitCredit = 0;
  faults: Fault[] = [];
  answers: Answer[] = [];
  delays: Delay[] = [];
  outcomes: Outcome[] = [];
  readonly files = new Map<string, StoredFile>();
  readonly batches = new Map<string, BatchRecord>();
  readonly stats = { requests: 0, failures: 0 };
  readonly batchStats = zeroBatchStats();
  /** The last prompts seen, so a test counts its own job's calls among other suites'. */
  readonly prompts: string[] = [];
  /** Route and Idempotency-Key -> the object the first request with them created (or will). */
  readonly idempotencyKeys = new Map<string, Promise<unknown>>();

  constructor(private readonly options: StubOptions) {
    this.initialPhases = { ...DEFAULT_PHASES, ...options.batchPhasesMs };
    this.batchPhases = { ...this.initialPhases };
    this.latencyMs = options.latencyMs ?? 20;
  }

  rememberPrompt(prompt: string) {
    this.prompts.push(prompt);
    if (this.prompts.length > PROMPTS_KEPT) this.prompts.shift();
  }

  /** Back to the state the stand-in was started with. */
  reset() {
    this.files.clear();
    this.batches.clear();
    this.outcomes = [];
    this.faults = [];
    this.answers = [];
    this.delays = [];
    this.latencyMs = this.options.latencyMs ?? 20;
    this.rateLimitShare = 0;
    this.rateLimitCredit = 0;
    this.retryAfterMs = undefined;
    this.batchPhases = { ...this.initialPhases };
    Object.assign(this.stats, { requests: 0, failures: 0 });
    this.prompts.length = 0;
    this.idempotencyKeys.clear();
    Object.assign(this.batchStats, zeroBatchStats());
  }

  /** Creates once per Idempotency-Key on a route: a repeat answers the first request's object. */
  idempotent(route: string, create: (req: IncomingMessage) => Promise<unknown>): Handler {
    return async (req, res) => {
      const key = req.headers['idempotency-key'];
      const slot = typeof key === 'string' && key !== '' ? `${route} ${key}` : undefined;
      const first = slot === undefined ? undefined : this.idempotencyKeys.get(slot);
      if (first) {
        await readBody(req);
        this.batchStats.idempotentReplays += 1;
        return send(res, 200, await first);
      }
      const created = create(req);
      if (slot !== undefined) {
        this.idempotencyKeys.set(slot, created);
        created.catch(() => this.idempotencyKeys.delete(slot));
      }
      send(res, 200, await created);
    };
  }
}
