import {
  TERMINAL,
  type BatchObject,
  type BatchOutcome,
  type BatchPhases,
  type BatchRecord,
  type BatchRequestLine,
  type Step,
} from './batchTypes';
import { chatCompletion, chatMessages } from './chat';
import { storeFile } from './files';
import {
  ClientError,
  isRecord,
  page,
  randomId,
  readJson,
  requestUrl,
  seconds,
  send,
  type RouteTable,
} from './http';
import type { StubState } from './state';

const DAY_SECONDS = 24 * 60 * 60;

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

const toJsonl = (rows: unknown[]) => Buffer.from(rows.map((row) => JSON.stringify(row)).join('\n') + '\n');

/** One output or error file row; `response` null for a request that never ran. */
function resultRow(customId: string, response: unknown, error: unknown) {
  return { id: randomId('batch_req_'), custom_id: customId, response, error };
}

/** Writes the output and error files of a batch that reached `completed`. */
function writeResults(state: StubState, record: BatchRecord) {
  const { wire, outcome } = record;
  const succeeded: unknown[] = [];
  const failed: unknown[] = [];
  for (const line of record.lines) {
    const request_id = randomId('req_');
    if (outcome?.kind === 'item_error') {
      const message = `Injected item failure for "${outcome.match}"`;
      const error = { message, type: 'server_error', code: 'server_error' };
      failed.push(
        resultRow(
          line.custom_id,
          { status_code: 500, request_id, body: { error } },
          { code: 'server_error', message },
        ),
      );
      continue;
    }
    const messages = chatMessages(line.body);
    if (!messages) {
      // An invalid request fails alone, as on the real API: the rest of the batch still succeeds.
      const error = { message: 'messages is required', type: 'invalid_request_error', code: null };
      failed.push(resultRow(line.custom_id, { status_code: 400, request_id, body: { error } }, null));
      continue;
    }
    const body = chatCompletion(messages, line.body.model);
    wire.usage.input_tokens += body.usage.prompt_tokens;
    wire.usage.output_tokens += body.usage.completion_tokens;
    wire.usage.total_tokens += body.usage.total_tokens;
    succeeded.push(resultRow(line.custom_id, { status_code: 200, request_id, body }, null));
  }
  if (succeeded.length > 0)
    wire.output_file_id = storeFile(state, `${wire.id}_output.jsonl`, 'batch_output', toJsonl(succeeded)).id;
  if (failed.length > 0)
    wire.error_file_id = storeFile(state, `${wire.id}_error.jsonl`, 'batch_output', toJsonl(failed)).id;
  wire.request_counts.completed = succeeded.length;
  wire.request_counts.failed = failed.length;
}

function enter(state: StubState, record: BatchRecord, step: Step) {
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
      writeResults(state, record);
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
      const error = {
        code: 'batch_expired',
        message: 'This request could not be executed before the completion window expired.',
      };
      const rows = record.lines.map((line) => resultRow(line.custom_id, null, error));
      wire.error_file_id = storeFile(state, `${wire.id}_error.jsonl`, 'batch_output', toJsonl(rows)).id;
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
export function advance(state: StubState, record: BatchRecord, now = Date.now()): BatchObject {
  while (record.pending.length > 0 && record.pending[0]!.atMs <= now)
    enter(state, record, record.pending.shift()!);
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

function newBatchObject(
  body: Record<string, unknown>,
  inputFileId: string,
  lines: BatchRequestLine[],
  createdMs: number,
): BatchObject {
  return {
    id: randomId('batch_'),
    object: 'batch',
    endpoint: String(body.endpoint),
    model: String(lines[0]!.body.model ?? 'stub'),
    errors: null,
    input_file_id: inputFileId,
    completion_window: String(body.completion_window),
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
}

/**
 * The Batch API for chat completions. A batch's status follows the time since it was created
 * (validating, in_progress, finalizing, completed), with the phase durations and outcome in force
 * when it was created, so changing the config later never moves a running batch.
 */
export function batchRoutes(state: StubState): RouteTable {
  const batchOr404 = (id: string): BatchRecord => {
    const record = state.batches.get(id);
    if (!record) throw new ClientError(404, `No such Batch object: ${id}`, 'id');
    return record;
  };
  return {
    'POST /v1/batches': state.idempotent('batches', async (req) => {
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
      const input = state.files.get(inputFileId);
      if (!input) throw new ClientError(400, `No such input file: ${inputFileId}`, 'input_file_id');
      if (input.meta.purpose !== 'batch')
        throw new ClientError(400, 'The input file must be uploaded with purpose batch', 'input_file_id');
      const lines = parseBatchInput(input.content, body.endpoint);
      const text = input.content.toString('utf8');
      const injected = state.outcomes.find((o) => text.includes(o.match));
      const createdMs = Date.now();
      const phases = { ...state.batchPhases };
      const wire = newBatchObject(body, inputFileId, lines, createdMs);
      const record: BatchRecord = {
        wire,
        lines,
        outcome: injected && { kind: injected.kind, match: injected.match },
        phases,
        pending: timeline(createdMs, phases, injected?.kind),
      };
      state.batches.set(wire.id, record);
      state.batchStats.batchesCreated += 1;
      return advance(state, record, createdMs);
    }),
    'GET /v1/batches': async (req, res) => {
      const all = [...state.batches.values()].map((record) => advance(state, record)).reverse();
      send(res, 200, page(all, requestUrl(req)));
    },
    'GET /v1/batches/:id': async (_req, res, { id }) => send(res, 200, advance(state, batchOr404(id!))),
    'POST /v1/batches/:id/cancel': async (_req, res, { id }) => {
      const record = batchOr404(id!);
      const now = Date.now();
      const { status } = advance(state, record, now);
      if (TERMINAL.includes(status))
        throw new ClientError(400, `Cannot cancel a batch with status '${status}'.`);
      if (status !== 'cancelling') {
        // Cancelling replaces whatever was still ahead; partial results are not kept.
        record.pending = [
          { status: 'cancelling', atMs: now },
          { status: 'cancelled', atMs: now + record.phases.finalizingMs },
        ];
      }
      send(res, 200, advance(state, record, now));
    },
  };
}
