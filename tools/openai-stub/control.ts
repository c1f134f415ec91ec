import { advance } from './batches';
import { BATCH_OUTCOMES, BATCH_STATUSES, type BatchStatus } from './batchTypes';
import { apiError, ClientError, isRecord, readJson, requestUrl, send, type RouteTable } from './http';
import type { StubState } from './state';

type Lists = Pick<StubState, 'faults' | 'answers' | 'delays' | 'outcomes'>;

const timesOf = (body: Record<string, unknown>) =>
  body.times === 'always' ? Number.POSITIVE_INFINITY : Number(body.times ?? 1);

/**
 * How each rule list reads a POST body: the rule, or the 400 message when the body is not one.
 * Every list has the same two routes, `POST /_stub/<name>` (add a rule) and `DELETE` (clear).
 */
const RULES: { [Name in keyof Lists]: (body: Record<string, unknown>) => Lists[Name][number] | string } = {
  faults: (body) => ({
    match: String(body.match),
    status: Number(body.status ?? 500),
    remaining: timesOf(body),
  }),
  answers: (body) => {
    if (typeof body.match !== 'string' || body.match === '') return 'match (a non-empty string) is required';
    const contentChars = body.contentChars === undefined ? undefined : Number(body.contentChars);
    return { match: body.match, contentChars, calls: 0 };
  },
  delays: (body) => {
    const delayMs = Number(body.delayMs);
    if (typeof body.match !== 'string' || body.match === '' || !(delayMs >= 0))
      return 'match (a non-empty string) and delayMs (>= 0) are required';
    return { match: body.match, delayMs, remaining: timesOf(body) };
  },
  outcomes: (body) => {
    const kind = BATCH_OUTCOMES.find((o) => o === body.outcome);
    if (typeof body.match !== 'string' || body.match === '' || !kind)
      return `match (a non-empty string) and outcome (${BATCH_OUTCOMES.join(', ')}) are required`;
    return { match: body.match, kind };
  },
};

/** Paths differ from list names only where the route predates the list. */
const PATHS: Record<keyof Lists, string> = {
  faults: 'faults',
  answers: 'answers',
  delays: 'delays',
  outcomes: 'batch-outcomes',
};

function ruleRoutes(state: StubState): RouteTable {
  const routes: RouteTable = {};
  for (const name of Object.keys(RULES) as (keyof Lists)[]) {
    routes[`POST /_stub/${PATHS[name]}`] = async (req, res) => {
      const rule = RULES[name](await readJson(req));
      if (typeof rule === 'string') return apiError(res, 400, rule);
      (state[name] as unknown[]).push(rule);
      send(res, 201, { [name]: state[name].length });
    };
    routes[`DELETE /_stub/${PATHS[name]}`] = async (_req, res) => {
      state[name] = [];
      send(res, 200, { [name]: 0 });
    };
  }
  return routes;
}

/** The stand-in's own API beside /v1, for tests and for trying failure paths by hand. */
export function controlRoutes(state: StubState): RouteTable {
  return {
    ...ruleRoutes(state),
    'POST /_stub/config': async (req, res) => {
      const body = await readJson(req);
      if (body.rateLimitShare !== undefined) {
        const share = Number(body.rateLimitShare);
        if (!(share >= 0 && share <= 1)) return apiError(res, 400, 'rateLimitShare must be between 0 and 1');
        state.rateLimitShare = share;
        state.rateLimitCredit = 0;
      }
      if (body.retryAfterMs !== undefined)
        state.retryAfterMs = body.retryAfterMs === null ? undefined : Number(body.retryAfterMs);
      if (isRecord(body.batchPhasesMs)) {
        const next = { ...state.batchPhases };
        for (const key of ['validatingMs', 'inProgressMs', 'finalizingMs'] as const)
          if (body.batchPhasesMs[key] !== undefined) next[key] = Number(body.batchPhasesMs[key]);
        state.batchPhases = next;
      }
      if (body.latencyMs !== undefined) state.latencyMs = Number(body.latencyMs);
      send(res, 200, {
        latencyMs: state.latencyMs,
        rateLimitShare: state.rateLimitShare,
        retryAfterMs: state.retryAfterMs ?? null,
        batchPhasesMs: state.batchPhases,
      });
    },
    'DELETE /_stub/state': async (_req, res) => {
      state.reset();
      send(res, 200, { reset: true });
    },
    'GET /_stub/chat-count': async (req, res) => {
      const match = requestUrl(req).searchParams.get('match');
      if (!match) throw new ClientError(400, 'match is required', 'match');
      send(res, 200, { match, count: state.prompts.filter((p) => p.includes(match)).length });
    },
    'GET /_stub/stats': async (_req, res) => {
      const byStatus = Object.fromEntries(BATCH_STATUSES.map((s) => [s, 0])) as Record<BatchStatus, number>;
      for (const record of state.batches.values()) byStatus[advance(state, record).status] += 1;
      send(res, 200, {
        ...state.stats,
        ...state.batchStats,
        files: state.files.size,
        batches: byStatus,
        answers: state.answers.map(({ match, calls }) => ({ match, calls })),
      });
    },
  };
}
