import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { cliEnv, SERVERLESS_BIN, type ServiceDir } from './services';
import type { Endpoints } from './provision';

export interface OfflineService {
  name: string;
  url: string;
  /** serverless-offline's Lambda Invoke API, for invoking any function (schedules included). */
  lambdaUrl: string;
  process: ChildProcess;
}

/**
 * serverless-esbuild's work folder for the local stack. `serverless package` bundles into .esbuild
 * and deletes it when done, so sharing it would leave a running stack without its handlers.
 */
export const OFFLINE_WORK_FOLDER = '.esbuild-offline';

export interface OpenAIConfig {
  baseUrl: string;
  apiKey: string;
}

export interface PortPlan {
  http: number;
  lambda: number;
  websocket: number;
}

/** Port plan: service i gets http base+i, lambda base+100+i, websocket base+200+i. */
export function portsFor(service: ServiceDir, httpBase: number): PortPlan {
  return {
    http: httpBase + service.index,
    lambda: httpBase + 100 + service.index,
    websocket: httpBase + 200 + service.index,
  };
}

/**
 * Environment every local function sees: the SDK's standard endpoint variables, no real account,
 * and no metrics unless POWERTOOLS_METRICS_DISABLED=false is set (their EMF JSON lines would flood
 * the terminal; deployed stages keep them on).
 */
export function functionEnv(endpoints: Endpoints, openai: OpenAIConfig): Record<string, string> {
  return {
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    OPENAI_BASE_URL: openai.baseUrl,
    ...(openai.apiKey && { OPENAI_API_KEY: openai.apiKey }),
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SNS: endpoints.sns,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ACCOUNT_ID: '000000000000',
  };
}

/**
 * Runs `serverless offline start` for one service in its own process group, so a stop reaches
 * the esbuild and worker processes it starts too. Output lines are prefixed with the service.
 */
export function startOffline(
  service: ServiceDir,
  options: { stage: string; ports: PortPlan; endpoints: Endpoints; openai: OpenAIConfig; quiet?: boolean },
): OfflineService {
  const child = spawn(
    process.execPath,
    [
      SERVERLESS_BIN,
      'offline',
      'start',
      '--stage',
      options.stage,
      '--host',
      '127.0.0.1',
      '--httpPort',
      String(options.ports.http),
      '--lambdaPort',
      String(options.ports.lambda),
      '--websocketPort',
      String(options.ports.websocket),
    ],
    {
      cwd: service.dir,
      env: cliEnv({
        ...functionEnv(options.endpoints, options.openai),
        OFFLOAD_ESBUILD_WORK_FOLDER: OFFLINE_WORK_FOLDER,
      }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines = (stream: NodeJS.ReadableStream, out: (line: string) => void) =>
    createInterface({ input: stream }).on('line', (line) => line.trim() !== '' && out(line));
  const prefixed = (line: string) => `[${service.name}] ${line}\n`;
  // Quiet (tests, --machine): serverless-offline's own request lines are dropped, but the functions'
  // JSON log lines still go out, on stderr, which the test harness keeps in integration-stack.log.
  lines(child.stdout!, (line) => {
    if (!options.quiet) process.stdout.write(prefixed(line));
    else if (line.startsWith('{')) process.stderr.write(prefixed(line));
  });
  lines(child.stderr!, (line) => process.stderr.write(prefixed(line)));
  return {
    name: service.name,
    url: `http://127.0.0.1:${options.ports.http}`,
    lambdaUrl: `http://127.0.0.1:${options.ports.lambda}`,
    process: child,
  };
}

/** Whether something accepts connections on the loopback port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once something listens on the port; rejects if the process exits first. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`serverless offline exited with code ${exited} before listening`);
    if (await isListening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** Stops a service's whole process group: SIGTERM, then SIGKILL if it lingers. */
export async function stopOffline(service: OfflineService, graceMs = 5000): Promise<void> {
  const { process: child } = service;
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // The group is already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
