import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
 * - DELETE /_stub/state: drops files, batches, outcomes, faults and counters and restores the
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
export interface StubOptions {
  port?: number;
  latencyMs?: number;
  batchPhasesMs?: Partial<BatchPhases>;
}

export interface BatchPhases {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
}

interface Fault {
  match: string;
  status: number;
  remaining: number;
}

export interface OpenAIStub {
  url: string;
  stop(): Promise<void>;
}

type ChatMessage = { role: string; content: string };

const BATCH_OUTCOMES = ['failed', 'expired', 'item_error'] as const;
type BatchOutcome = (typeof BATCH_OUTCOMES)[number];

const BATCH_STATUSES = [
  'validating',
  'failed',
  'in_progress',
  'finalizing',
  'completed',
  'expired',
  'cancelling',
  'cancelled',
] as const;
type BatchStatus = (typeof BATCH_STATUSES)[number];
const TERMINAL: readonly BatchStatus[] = ['failed', 'completed', 'expired', 'cancelled'];

const DEFAULT_PHASES: BatchPhases = { validatingMs: 100, inProgressMs: 300, finalizingMs: 100 };
const DAY_SECONDS = 24 * 60 * 60;

interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
}

interface StoredFile {
  meta: FileObject;
  content: Buffer;
}

interface BatchRequestLine {
  custom_id: string;
  method: string;
  url: string;
  body: Record<string, unknown>;
}

/** The wire shape of a Batch; every field the SDK type declares is present, unset ones null. */
interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  model: string;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
  metadata: Record<string, string> | null;
}

interface BatchError {
  code: string;
  message: string;
  line: number | null;
  param: string | null;
}

interface Step {
  status: BatchStatus;
  atMs: number;
}

interface BatchRecord {
  wire: BatchObject;
  lines: BatchRequestLine[];
  outcome?: { kind: BatchOutcome; match: string };
  phases: BatchPhases;
  /** Status changes still ahead, in order; each is applied once the clock passes it. */
  pending: Step[];
}

type Handler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void>;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBody(req)).toString('utf8');
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function apiError(res: ServerResponse, status: number, message: string) {
  const type =
    status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  if (status === 429) res.setHeader('retry-after', '0');
  send(res, status, { error: { message, type, code: type } });
}

/** Thrown by handlers of the file and batch routes to answer 4xx in the OpenAI error shape. */
class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => Math.floor(ms / 1000);
const randomId = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

function chatMessages(body: Record<string, unknown>): ChatMessage[] | undefined {
  const messages = (body.messages ?? []) as ChatMessage[];
  return Array.isArray(messages) && messages.length > 0 ? messages : undefined;
}

const promptOf = (messages: ChatMessage[]) => messages.map((m) => String(m.content)).join('\n');

/** The chat.completion object; shared by the chat route and batch output so both answer alike. */
function chatCompletion(messages: ChatMessage[], model: unknown) {
  const prompt = promptOf(messages);
  const last = messages[messages.length - 1]!.content;
  const digest = createHash('sha256').update(prompt).digest('hex').slice(0, 8);
  const content = `[${digest}] ${String(last).replace(/\s+/g, ' ').slice(0, 80)}`;
  return {
    id: `chatcmpl-${digest}`,
    object: 'chat.completion' as const,
    created: Math.floor(Date.now() / 1000),
    model: String(model ?? 'stub'),
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: prompt.length,
      completion_tokens: content.length,
      total_tokens: prompt.length + content.length,
    },
  };
}

/** Validates a batch input file the way the real API's validation phase would reject it. */
function parseBatchInput(content: Buffer, endpoint: string): BatchRequestLine[] {
  const lines: BatchRequestLine[] = [];
  const seen = new Set<string>();
  content
    .toString('utf8')
    .split('\n')
    .forEach((text, index) => {
      if (text.trim() === '') return;
      const where = `Line ${index + 1} of the input file`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ClientError(400, `${where} is not valid JSON`, 'input_file_id');
      }
      if (
        !isRecord(parsed) ||
        typeof parsed.custom_id !== 'string' ||
        typeof parsed.method !== 'string' ||
        typeof parsed.url !== 'string' ||
        !isRecord(parsed.body)
      )
        throw new ClientError(400, `${where} needs custom_id, method, url and body`, 'input_file_id');
      if (parsed.method !== 'POST' || parsed.url !== endpoint)
        throw new ClientError(400, `${where} must be POST ${endpoint}`, 'input_file_id');
      if (seen.has(parsed.custom_id))
        throw new ClientError(400, `${where} repeats custom_id "${parsed.custom_id}"`, 'input_file_id');
      seen.add(parsed.custom_id);
      lines.push({ custom_id: parsed.custom_id, method: parsed.method, url: parsed.url, body: parsed.body });
    });
  if (lines.length === 0) throw new ClientError(400, 'The input file has no requests', 'input_file_id');
  return lines;
}

/** Compiles 'GET /v1/files/:id' into a matcher; ids never contain a slash. */
function compileRoute(key: string, handler: Handler) {
  const [method, template] = key.split(' ') as [string, string];
  const names: string[] = [];
  const source = template.replace(/:(\w+)/g, (_match, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const pattern = new RegExp(`^${source}$`);
  return (reqMethod: string, path: string) => {
    if (reqMethod !== method) return undefined;
    const found = pattern.exec(path);
    if (!found) return undefined;
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1]!)]));
    return { handler, params };
  };
}

export async function startOpenAIStub(options: StubOptions = {}): Promise<OpenAIStub> {
  const initialPhases: BatchPhases = { ...DEFAULT_PHASES, ...options.batchPhasesMs };
  let latencyMs = options.latencyMs ?? 20;
  let rateLimitShare = 0;
  let retryAfterMs: number | undefined;
  let batchPhases: BatchPhases = { ...initialPhases };
  // Grows by rateLimitShare per request and limits one request each time it reaches 1, so a share
  // is exact and reproducible rather than a coin toss per request.
  let rateLimitCredit = 0;
  let faults: Fault[] = [];
  let answers: { match: string; contentChars?: number; calls: number }[] = [];
  let outcomes: { match: string; kind: BatchOutcome }[] = [];
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, BatchRecord>();
  const stats = { requests: 0, failures: 0 };
  const batchStats = {
    batchRequests: 0,
    rateLimited: 0,
    filesCreated: 0,
    filesDeleted: 0,
    batchesCreated: 0,
    idempotentReplays: 0,
  };
  // Route and Idempotency-Key -> the object the first request with them created (or will).
  const idempotencyKeys = new Map<string, Promise<unknown>>();

  /** Creates once per Idempotency-Key on a route: a repeat answers the first request's object. */
  function idempotent(route: string, create: (req: IncomingMessage) => Promise<unknown>): Handler {
    return async (req, res) => {
      const key = req.headers['idempotency-key'];
      const slot = typeof key === 'string' && key !== '' ? `${route} ${key}` : undefined;
      const first = slot === undefined ? undefined : idempotencyKeys.get(slot);
      if (first) {
        await readBody(req);
        batchStats.idempotentReplays += 1;
        return send(res, 200, await first);
      }
      const created = create(req);
      if (slot !== undefined) {
        idempotencyKeys.set(slot, created);
        created.catch(() => idempotencyKeys.delete(slot));
      }
      send(res, 200, await created);
    };
  }

  function storeFile(filename: string, purpose: string, content: Buffer): FileObject {
    const meta: FileObject = {
      id: randomId('file-'),
      object: 'file',
      bytes: content.length,
      created_at: seconds(Date.now()),
      filename,
      purpose,
      status: 'processed',
    };
    files.set(meta.id, { meta, content });
    return meta;
  }

  function fileOr404(id: string): StoredFile {
    const file = files.get(id);
    if (!file) throw new ClientError(404, `No such File object: ${id}`, 'id');
    return file;
  }

  const toJsonl = (rows: unknown[]) => Buffer.from(rows.map((row) => JSON.stringify(row)).join('\n') + '\n');

  /** Writes the output and error files of a batch that reached `completed`. */
  function writeResults(record: BatchRecord) {
    const { wire, outcome } = record;
    const succeeded: unknown[] = [];
    const failed: unknown[] = [];
    for (const line of record.lines) {
      const id = randomId('batch_req_');
      const request_id = randomId('req_');
      if (outcome?.kind === 'item_error') {
        const message = `Injected item failure for "${outcome.match}"`;
        failed.push({
          id,
          custom_id: line.custom_id,
          response: {
            status_code: 500,
            request_id,
            body: { error: { message, type: 'server_error', code: 'server_error' } },
          },
          error: { code: 'server_error', message },
        });
        continue;
      }
      const messages = chatMessages(line.body);
      if (!messages) {
        // An invalid request fails alone, as on the real API: the rest of the batch still succeeds.
        failed.push({
          id,
          custom_id: line.custom_id,
          response: {
            status_code: 400,
            request_id,
            body: {
              error: { message: 'messages is required', type: 'invalid_request_error', code: null },
            },
          },
          error: null,
        });
        continue;
      }
      const body = chatCompletion(messages, line.body.model);
      wire.usage.input_tokens += body.usage.prompt_tokens;
      wire.usage.output_tokens += body.usage.completion_tokens;
      wire.usage.total_tokens += body.usage.total_tokens;
      succeeded.push({
        id,
        custom_id: line.custom_id,
        response: { status_code: 200, request_id, body },
        error: null,
      });
    }
    if (succeeded.length > 0)
      wire.output_file_id = storeFile(`${wire.id}_output.jsonl`, 'batch_output', toJsonl(succeeded)).id;
    if (failed.length > 0)
      wire.error_file_id = storeFile(`${wire.id}_error.jsonl`, 'batch_output', toJsonl(failed)).id;
    wire.request_counts.completed = succeeded.length;
    wire.request_counts.failed = failed.length;
  }

  function enter(record: BatchRecord, step: Step) {
    const { wire } = record;
    wire.status = step.status;
    const at = seconds(step.atMs);
    switch (step.status) {
      case 'in_progress':
        wire.in_progress_at = at;
        break;
      case 'finalizing':
        wire.finalizing_at = at;
        break;
      case 'completed':
        wire.completed_at = at;
        writeResults(record);
        break;
      case 'failed':
        wire.failed_at = at;
        wire.errors = {
          object: 'list',
          data: [
            {
              code: 'invalid_request',
              message: `Injected failure for "${record.outcome?.match ?? ''}"`,
              line: null,
              param: null,
            },
          ],
        };
        break;
      case 'expired': {
        wire.expired_at = at;
        const rows = record.lines.map((line) => ({
          id: randomId('batch_req_'),
          custom_id: line.custom_id,
          response: null,
          error: {
            code: 'batch_expired',
            message: 'This request could not be executed before the completion window expired.',
          },
        }));
        wire.error_file_id = storeFile(`${wire.id}_error.jsonl`, 'batch_output', toJsonl(rows)).id;
        wire.request_counts.failed = record.lines.length;
        break;
      }
      case 'cancelling':
        wire.cancelling_at = at;
        break;
      case 'cancelled':
        wire.cancelled_at = at;
        break;
      case 'validating':
        break;
    }
  }

  /** Applies every status change whose time has come; state only moves when someone looks. */
  function advance(record: BatchRecord, now = Date.now()): BatchObject {
    while (record.pending.length > 0 && record.pending[0]!.atMs <= now)
      enter(record, record.pending.shift()!);
    return record.wire;
  }

  function timeline(createdMs: number, phases: BatchPhases, outcome?: BatchOutcome): Step[] {
    const validated = createdMs + phases.validatingMs;
    if (outcome === 'failed') return [{ status: 'failed', atMs: validated }];
    const processed = validated + phases.inProgressMs;
    const steps: Step[] = [{ status: 'in_progress', atMs: validated }];
    if (outcome === 'expired') return [...steps, { status: 'expired', atMs: processed }];
    return [
      ...steps,
      { status: 'finalizing', atMs: processed },
      { status: 'completed', atMs: processed + phases.finalizingMs },
    ];
  }

  function batchOr404(id: string): BatchRecord {
    const record = batches.get(id);
    if (!record) throw new ClientError(404, `No such Batch object: ${id}`, 'id');
    return record;
  }

  /** Cursor pagination as the SDK's CursorPage expects it: newest first, `after` an id. */
  function page<T extends { id: string }>(items: T[], url: URL) {
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 20) || 20, 1), 100);
    const after = url.searchParams.get('after');
    const start = after ? items.findIndex((item) => item.id === after) + 1 : 0;
    const data = items.slice(start, start + limit);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: start + limit < items.length,
    };
  }

  const requestUrl = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://stub');

  const prompts: string[] = [];
  const PROMPTS_KEPT = 10_000;

  const routeTable: Record<string, Handler> = {
    'POST /v1/chat/completions': async (req, res) => {
      stats.requests += 1;
      const body = await readJson(req);
      const messages = chatMessages(body);
      if (!messages) return apiError(res, 400, 'messages is required');
      const prompt = promptOf(messages);
      prompts.push(prompt);
      if (prompts.length > PROMPTS_KEPT) prompts.shift();
      const answer = answers.find((a) => prompt.includes(a.match));
      if (answer) answer.calls += 1;
      const fault = faults.find((f) => f.remaining > 0 && prompt.includes(f.match));
      if (fault) {
        fault.remaining -= 1;
        stats.failures += 1;
        return apiError(res, fault.status, `Injected failure for "${fault.match}"`);
      }
      await sleep(latencyMs);
      const completion = chatCompletion(messages, body.model);
      if (answer?.contentChars !== undefined)
        completion.choices[0]!.message.content = 'x'.repeat(answer.contentChars);
      send(res, 200, completion);
    },
    'GET /v1/models': async (_req, res) => {
      send(res, 200, { object: 'list', data: [{ id: 'stub', object: 'model', owned_by: 'offload' }] });
    },

    'POST /v1/files': idempotent('files', async (req) => {
      const raw = await readBody(req);
      let form: FormData;
      try {
        form = await new Request(`http://stub${req.url ?? ''}`, {
          method: 'POST',
          headers: { 'content-type': req.headers['content-type'] ?? '' },
          body: raw,
        }).formData();
      } catch {
        throw new ClientError(400, 'Expected a multipart/form-data body with file and purpose');
      }
      const file = form.get('file');
      const purpose = form.get('purpose');
      if (!(file instanceof Blob)) throw new ClientError(400, 'file is required', 'file');
      if (typeof purpose !== 'string' || purpose === '')
        throw new ClientError(400, 'purpose is required', 'purpose');
      const filename = file instanceof File && file.name ? file.name : 'upload';
      batchStats.filesCreated += 1;
      return storeFile(filename, purpose, Buffer.from(await file.arrayBuffer()));
    }),
    'GET /v1/files': async (req, res) => {
      const purpose = requestUrl(req).searchParams.get('purpose');
      const all = [...files.values()].map((f) => f.meta).reverse();
      send(res, 200, page(purpose ? all.filter((f) => f.purpose === purpose) : all, requestUrl(req)));
    },
    'GET /v1/files/:id': async (_req, res, { id }) => send(res, 200, fileOr404(id!).meta),
    'GET /v1/files/:id/content': async (_req, res, { id }) => {
      const { content } = fileOr404(id!);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
      res.end(content);
    },
    'DELETE /v1/files/:id': async (_req, res, { id }) => {
      fileOr404(id!);
      files.delete(id!);
      batchStats.filesDeleted += 1;
      send(res, 200, { id, object: 'file', deleted: true });
    },

    'POST /v1/batches': idempotent('batches', async (req) => {
      let body: Record<string, unknown>;
      try {
        body = await readJson(req);
      } catch {
        throw new ClientError(400, 'The body is not valid JSON');
      }
      if (body.endpoint !== '/v1/chat/completions')
        throw new ClientError(400, 'This stand-in only batches /v1/chat/completions', 'endpoint');
      if (body.completion_window !== '24h')
        throw new ClientError(400, 'completion_window must be 24h', 'completion_window');
      const inputFileId = String(body.input_file_id ?? '');
      const input = files.get(inputFileId);
      if (!input) throw new ClientError(400, `No such input file: ${inputFileId}`, 'input_file_id');
      if (input.meta.purpose !== 'batch')
        throw new ClientError(400, 'The input file must be uploaded with purpose batch', 'input_file_id');
      const lines = parseBatchInput(input.content, body.endpoint);
      const text = input.content.toString('utf8');
      const injected = outcomes.find((o) => text.includes(o.match));
      const createdMs = Date.now();
      const phases = { ...batchPhases };
      const wire: BatchObject = {
        id: randomId('batch_'),
        object: 'batch',
        endpoint: body.endpoint,
        model: String(lines[0]!.body.model ?? 'stub'),
        errors: null,
        input_file_id: inputFileId,
        completion_window: body.completion_window,
        status: 'validating',
        output_file_id: null,
        error_file_id: null,
        created_at: seconds(createdMs),
        in_progress_at: null,
        expires_at: seconds(createdMs) + DAY_SECONDS,
        finalizing_at: null,
        completed_at: null,
        failed_at: null,
        expired_at: null,
        cancelling_at: null,
        cancelled_at: null,
        request_counts: { total: lines.length, completed: 0, failed: 0 },
        usage: {
          input_tokens: 0,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 0,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 0,
        },
        metadata: isRecord(body.metadata)
          ? Object.fromEntries(Object.entries(body.metadata).map(([k, v]) => [k, String(v)]))
          : null,
      };
      const record: BatchRecord = {
        wire,
        lines,
        outcome: injected && { kind: injected.kind, match: injected.match },
        phases,
        pending: timeline(createdMs, phases, injected?.kind),
      };
      batches.set(wire.id, record);
      batchStats.batchesCreated += 1;
      return advance(record, createdMs);
    }),
    'GET /v1/batches': async (req, res) => {
      const all = [...batches.values()].map((record) => advance(record)).reverse();
      send(res, 200, page(all, requestUrl(req)));
    },
    'GET /v1/batches/:id': async (_req, res, { id }) => send(res, 200, advance(batchOr404(id!))),
    'POST /v1/batches/:id/cancel': async (_req, res, { id }) => {
      const record = batchOr404(id!);
      const now = Date.now();
      const { status } = advance(record, now);
      if (TERMINAL.includes(status))
        throw new ClientError(400, `Cannot cancel a batch with status '${status}'.`);
      if (status !== 'cancelling') {
        // Cancelling replaces whatever was still ahead; partial results are not kept.
        record.pending = [
          { status: 'cancelling', atMs: now },
          { status: 'cancelled', atMs: now + record.phases.finalizingMs },
        ];
      }
      send(res, 200, advance(record, now));
    },

    // Control endpoints, for tests and for trying failure paths by hand.
    'POST /_stub/faults': async (req, res) => {
      const body = await readJson(req);
      const times = body.times === 'always' ? Number.POSITIVE_INFINITY : Number(body.times ?? 1);
      faults.push({ match: String(body.match), status: Number(body.status ?? 500), remaining: times });
      send(res, 201, { faults: faults.length });
    },
    'DELETE /_stub/faults': async (_req, res) => {
      faults = [];
      send(res, 200, { faults: 0 });
    },
    'POST /_stub/answers': async (req, res) => {
      const body = await readJson(req);
      if (typeof body.match !== 'string' || body.match === '')
        return apiError(res, 400, 'match (a non-empty string) is required');
      const contentChars = body.contentChars === undefined ? undefined : Number(body.contentChars);
      answers.push({ match: body.match, contentChars, calls: 0 });
      send(res, 201, { answers: answers.length });
    },
    'DELETE /_stub/answers': async (_req, res) => {
      answers = [];
      send(res, 200, { answers: 0 });
    },
    'POST /_stub/config': async (req, res) => {
      const body = await readJson(req);
      if (body.rateLimitShare !== undefined) {
        const share = Number(body.rateLimitShare);
        if (!(share >= 0 && share <= 1)) return apiError(res, 400, 'rateLimitShare must be between 0 and 1');
        rateLimitShare = share;
        rateLimitCredit = 0;
      }
      if (body.retryAfterMs !== undefined)
        retryAfterMs = body.retryAfterMs === null ? undefined : Number(body.retryAfterMs);
      if (isRecord(body.batchPhasesMs)) {
        const next = { ...batchPhases };
        for (const key of ['validatingMs', 'inProgressMs', 'finalizingMs'] as const)
          if (body.batchPhasesMs[key] !== undefined) next[key] = Number(body.batchPhasesMs[key]);
        batchPhases = next;
      }
      if (body.latencyMs !== undefined) latencyMs = Number(body.latencyMs);
      send(res, 200, {
        latencyMs,
        rateLimitShare,
        retryAfterMs: retryAfterMs ?? null,
        batchPhasesMs: batchPhases,
      });
    },
    'POST /_stub/batch-outcomes': async (req, res) => {
      const body = await readJson(req);
      const kind = BATCH_OUTCOMES.find((o) => o === body.outcome);
      if (typeof body.match !== 'string' || body.match === '' || !kind)
        return apiError(
          res,
          400,
          `match (a non-empty string) and outcome (${BATCH_OUTCOMES.join(', ')}) are required`,
        );
      outcomes.push({ match: body.match, kind });
      send(res, 201, { outcomes: outcomes.length });
    },
    'DELETE /_stub/batch-outcomes': async (_req, res) => {
      outcomes = [];
      send(res, 200, { outcomes: 0 });
    },
    'DELETE /_stub/state': async (_req, res) => {
      files.clear();
      batches.clear();
      outcomes = [];
      faults = [];
      answers = [];
      latencyMs = options.latencyMs ?? 20;
      rateLimitShare = 0;
      rateLimitCredit = 0;
      retryAfterMs = undefined;
      batchPhases = { ...initialPhases };
      Object.assign(stats, { requests: 0, failures: 0 });
      prompts.length = 0;
      idempotencyKeys.clear();
      Object.assign(batchStats, {
        batchRequests: 0,
        rateLimited: 0,
        filesCreated: 0,
        filesDeleted: 0,
        batchesCreated: 0,
        idempotentReplays: 0,
      });
      send(res, 200, { reset: true });
    },
    'GET /_stub/chat-count': async (req, res) => {
      const match = requestUrl(req).searchParams.get('match');
      if (!match) throw new ClientError(400, 'match is required', 'match');
      send(res, 200, { match, count: prompts.filter((p) => p.includes(match)).length });
    },
    'GET /_stub/stats': async (_req, res) => {
      const byStatus = Object.fromEntries(BATCH_STATUSES.map((s) => [s, 0])) as Record<BatchStatus, number>;
      for (const record of batches.values()) byStatus[advance(record).status] += 1;
      send(res, 200, {
        ...stats,
        ...batchStats,
        files: files.size,
        batches: byStatus,
        answers: answers.map(({ match, calls }) => ({ match, calls })),
      });
    },
  };
  const routes = Object.entries(routeTable).map(([key, handler]) => compileRoute(key, handler));

  /** Rate limiting and latency for the Files and Batch APIs; false when the request was answered. */
  async function admitBatchRequest(res: ServerResponse): Promise<boolean> {
    batchStats.batchRequests += 1;
    rateLimitCredit += rateLimitShare;
    if (rateLimitCredit >= 1) {
      rateLimitCredit -= 1;
      batchStats.rateLimited += 1;
      if (retryAfterMs !== undefined) res.setHeader('retry-after-ms', String(retryAfterMs));
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
    await sleep(latencyMs);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string) {
    const method = req.method ?? 'GET';
    const batchApi = /^\/v1\/(files|batches)(\/|$)/.test(path);
    if (batchApi && !(await admitBatchRequest(res))) return;
    for (const match of routes) {
      const found = match(method, path);
      if (found) return found.handler(req, res, found.params);
    }
    apiError(res, 404, `No route ${method} ${path}`);
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    handle(req, res, path).catch((error: unknown) => {
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
