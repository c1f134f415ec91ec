import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stateful OpenAI-compatible stand-in for local runs and tests: chat completions with
 * deterministic output, configurable latency, and error injection matched on prompt text. Product
 * code reaches it only through OPENAI_BASE_URL; nothing in services/ imports it.
 */
export interface StubOptions {
  port?: number;
  latencyMs?: number;
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

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
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

export async function startOpenAIStub(options: StubOptions = {}): Promise<OpenAIStub> {
  let latencyMs = options.latencyMs ?? 20;
  let faults: Fault[] = [];
  const stats = { requests: 0, failures: 0 };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    'POST /v1/chat/completions': async (req, res) => {
      stats.requests += 1;
      const body = await readJson(req);
      const messages = (body.messages ?? []) as { role: string; content: string }[];
      if (!Array.isArray(messages) || messages.length === 0)
        return apiError(res, 400, 'messages is required');
      const prompt = messages.map((m) => String(m.content)).join('\n');
      const fault = faults.find((f) => f.remaining > 0 && prompt.includes(f.match));
      if (fault) {
        fault.remaining -= 1;
        stats.failures += 1;
        return apiError(res, fault.status, `Injected failure for "${fault.match}"`);
      }
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const last = messages[messages.length - 1]!.content;
      const digest = createHash('sha256').update(prompt).digest('hex').slice(0, 8);
      const content = `[${digest}] ${String(last).replace(/\s+/g, ' ').slice(0, 80)}`;
      send(res, 200, {
        id: `chatcmpl-${digest}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: String(body.model ?? 'stub'),
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: prompt.length,
          completion_tokens: content.length,
          total_tokens: prompt.length + content.length,
        },
      });
    },
    'GET /v1/models': async (_req, res) => {
      send(res, 200, { object: 'list', data: [{ id: 'stub', object: 'model', owned_by: 'offload' }] });
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
    'POST /_stub/config': async (req, res) => {
      const body = await readJson(req);
      if (body.latencyMs !== undefined) latencyMs = Number(body.latencyMs);
      send(res, 200, { latencyMs });
    },
    'GET /_stub/stats': async (_req, res) => send(res, 200, stats),
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[`${req.method} ${path}`];
    if (!route) return apiError(res, 404, `No route ${req.method} ${path}`);
    route(req, res).catch((error: unknown) => apiError(res, 500, String(error)));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
