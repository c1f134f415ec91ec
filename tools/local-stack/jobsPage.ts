import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PageConfig } from '../../web/jobs-page/src/api';
import { buildJobsPage } from '../../web/jobs-page/build';

export interface JobsPageServer {
  /** `http://localhost:<port>/`: the origin the APIs' CORS settings allow for the local stages. */
  url: string;
  stop(): Promise<void>;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/**
 * Serves the jobs page, bundled at start, and a config.json pointing it at this stack's APIs, the
 * way a static host serves the built files with a deploy's config.json. Only GET and HEAD of
 * those few files; anything else is a 404 or 405.
 */
export async function startJobsPage(options: { port: number; config: PageConfig }): Promise<JobsPageServer> {
  const files: Record<string, string> = {
    ...(await buildJobsPage()),
    'config.json': `${JSON.stringify(options.config, null, 2)}\n`,
  };
  const origins = [options.config.jobs_api_url, options.config.batch_api_url, options.config.websocket_url]
    .filter((url): url is string => Boolean(url))
    .map((url) => new URL(url).origin);
  const csp = [
    "default-src 'self'",
    `connect-src 'self' ${origins.join(' ')}`,
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    const name = pathname === '/' ? 'index.html' : pathname.slice(1);
    const body = Object.hasOwn(files, name) ? files[name] : undefined;
    if (body === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[name.split('.').pop()!] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  server.listen(options.port, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
