import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A route's handler; `params` holds the `:name` segments of its path. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
) => Promise<void>;

/** Routes keyed 'METHOD /path/:param', as each API module declares them. */
export type RouteTable = Record<string, Handler>;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBody(req)).toString('utf8');
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

export function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function apiError(res: ServerResponse, status: number, message: string) {
  const type =
    status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  if (status === 429) res.setHeader('retry-after', '0');
  send(res, status, { error: { message, type, code: type } });
}

/** Thrown by handlers to answer 4xx in the OpenAI error shape. */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const seconds = (ms: number) => Math.floor(ms / 1000);
export const randomId = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;
export const requestUrl = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://stub');

/** Cursor pagination as the SDK's CursorPage expects it: newest first, `after` an id. */
export function page<T extends { id: string }>(items: T[], url: URL) {
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

/** Compiles 'GET /v1/files/:id' into a matcher; ids never contain a slash. */
export function compileRoute(key: string, handler: Handler) {
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
