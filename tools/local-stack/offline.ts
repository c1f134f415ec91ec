import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { cliEnv, SERVERLESS_BIN, type ServiceDir } from './services';
import type { Endpoints } from './provision';

export interface OfflineService {
  name: string;
  url: string;
  /** serverless offline's WebSocket server (used only by services with websocket routes). */
  websocketUrl: string;
  /** serverless-offline's Lambda Invoke API, for invoking any function (schedules included). */
  lambdaUrl: string;
  process: ChildProcess;
  /** Resolves once the serverless offline process has exited, however it ended. */
  exited: Promise<ServiceExit>;
}

/** How a service's serverless offline process ended, with what it printed last. */
export interface ServiceExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  lastLines: string[];
}

/**
 * serverless-esbuild's work folder for the local stack. `serverless package` bundles into .esbuild
 * and deletes it when done, so sharing it would leave a running stack without its handlers.
 */
export const OFFLINE_WORK_FOLDER = '.esbuild-offline';

const TAIL_LINES = 15;

/** Bundles of the CommonJS build, and their maps: the functions are ES modules (`.mjs`) now. */
const COMMONJS_BUNDLE = /\.(c?js)(\.map)?$/;

/**
 * Deletes the CommonJS bundles in the local stack's work folder before serverless offline builds
 * into it. serverless-esbuild never cleans that folder, and serverless-offline's loader tries
 * `X.js` before `X.mjs`, so a checkout that ran the stack before the functions became ES modules
 * would go on running its stale `X.js` bundles. The build writes only `.mjs` files (entries and
 * chunks), so nothing current goes. Returns the files it deleted.
 */
export function removeCommonJsBundles(folder: string): string[] {
  const removed: string[] = [];
  if (!existsSync(folder)) return removed;
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !COMMONJS_BUNDLE.test(entry.name)) continue;
    if (entry.parentPath.split(path.sep).includes('node_modules')) continue;
    const file = path.join(entry.parentPath, entry.name);
    rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}

// Every process group started and not yet seen gone, so a forced stop can reach all of them.
const running = new Set<OfflineService>();

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

/** The browser page the local stack serves sits at HTTP base + this port offset. */
export const PAGE_PORT_OFFSET = 90;

/**
 * The origins the local stages allow CORS from: the local page's, by both loopback names. The
 * stages' `corsOrigins` param reads it (OFFLOAD_LOCAL_CORS_ORIGINS), so the template's
 * CorsConfiguration, serverless-offline's preflight answers and the functions' own headers all
 * allow that origin and no other.
 */
export function localCorsOrigins(httpBase: number): string {
  const port = httpBase + PAGE_PORT_OFFSET;
  return `http://localhost:${port},http://127.0.0.1:${port}`;
}

/**
 * Environment every local function sees: the SDK's standard endpoint variables, the account and
 * ARNs of what was provisioned (`provisioned`, see localArnEnvironment), and no metrics unless
 * POWERTOOLS_METRICS_DISABLED=false is set (their EMF JSON lines would flood the terminal;
 * deployed stages keep them on).
 */
export function functionEnv(
  endpoints: Endpoints,
  openai: OpenAIConfig,
  provisioned: Record<string, string> = {},
): Record<string, string> {
  return {
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    OPENAI_BASE_URL: openai.baseUrl,
    ...(openai.apiKey && { OPENAI_API_KEY: openai.apiKey }),
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SNS: endpoints.sns,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    ...provisioned,
  };
}

/**
 * Runs `serverless offline start` for one service in its own process group, so a stop reaches
 * the esbuild and worker processes it starts too, and Ctrl-C in the terminal reaches only us (we
 * stop the groups). Output lines are prefixed with the service.
 */
export function startOffline(
  service: ServiceDir,
  options: {
    stage: string;
    ports: PortPlan;
    endpoints: Endpoints;
    openai: OpenAIConfig;
    /** The provisioned account and ARNs (localArnEnvironment). */
    provisioned: Record<string, string>;
    /** Comma-separated origins the stage's CORS allows (localCorsOrigins). */
    corsOrigins: string;
    quiet?: boolean;
    noTimeout?: boolean;
  },
): OfflineService {
  removeCommonJsBundles(path.join(service.dir, OFFLINE_WORK_FOLDER));
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
      ...(options.noTimeout ? ['--noTimeout'] : []),
    ],
    {
      cwd: service.dir,
      env: cliEnv({
        ...functionEnv(options.endpoints, options.openai, options.provisioned),
        // The management API (postToConnection) of this service's own WebSocket server, through
        // the SDK's service-specific endpoint variable, as on AWS the stage's endpoint is.
        AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: `http://127.0.0.1:${options.ports.websocket}`,
        OFFLOAD_ESBUILD_WORK_FOLDER: OFFLINE_WORK_FOLDER,
        OFFLOAD_LOCAL_CORS_ORIGINS: options.corsOrigins,
      }),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // The last lines, quiet mode's dropped ones included, explain an unexpected exit.
  const tail: string[] = [];
  const lines = (stream: NodeJS.ReadableStream, out: (line: string) => void) =>
    createInterface({ input: stream }).on('line', (line) => {
      if (line.trim() === '') return;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      out(line);
    });
  const prefixed = (line: string) => `[${service.name}] ${line}\n`;
  // Quiet (tests, --machine): serverless-offline's own request lines are dropped, but the functions'
  // JSON log lines still go out, on stderr, which the test harness keeps in integration-stack.log.
  lines(child.stdout!, (line) => {
    if (!options.quiet) process.stdout.write(prefixed(line));
    else if (line.startsWith('{')) process.stderr.write(prefixed(line));
  });
  lines(child.stderr!, (line) => process.stderr.write(prefixed(line)));
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      // 'close' comes once its output is read to the end; an esbuild process it left behind can
      // hold the pipes open, so do not wait for that long.
      const done = () => resolve({ name: service.name, code, signal, lastLines: [...tail] });
      const timer = setTimeout(done, 500);
      child.once('close', () => (clearTimeout(timer), done()));
    });
  });
  const offline: OfflineService = {
    name: service.name,
    url: `http://127.0.0.1:${options.ports.http}`,
    websocketUrl: `ws://127.0.0.1:${options.ports.websocket}`,
    lambdaUrl: `http://127.0.0.1:${options.ports.lambda}`,
    process: child,
    exited,
  };
  running.add(offline);
  return offline;
}

/** `code 1` or `signal SIGKILL`: how a process ended, for messages. */
export function describeExit(exit: Pick<ServiceExit, 'code' | 'signal'>): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** Whether something accepts connections on the loopback port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once the service listens on the port; rejects if its process exits first. */
export async function waitForPort(port: number, service: OfflineService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: ServiceExit | undefined;
  void service.exited.then((result) => (exit = result));
  while (Date.now() < deadline) {
    if (exit) {
      const output = exit.lastLines.map((line) => `\n  ${line}`).join('');
      throw new Error(
        `${service.name}: serverless offline exited with ${describeExit(exit)} before listening${output}`,
      );
    }
    if (await isListening(port)) return;
    await sleep(250);
  }
  throw new Error(`${service.name}: nothing listened on port ${port} within ${timeoutMs} ms`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether any process of the group is still running. Signal 0 only asks; but it also counts
 * zombies, and a killed service's esbuild, adopted by init, stays one until init reaps it (seconds
 * on some machines), so on Linux the group's members are read from /proc and zombies left out.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    // EPERM: it exists, we just may not signal it.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!existsSync('/proc/self/stat')) return true;
  return readdirSync('/proc').some((entry) => /^\d+$/.test(entry) && runningInGroup(entry, pgid));
}

function runningInGroup(pid: string, pgid: number): boolean {
  try {
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state !== 'Z' && Number(pgrp) === pgid;
  } catch {
    return false; // it exited while we looked
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Stops a service's whole process group: SIGTERM, SIGKILL after `graceMs`, and resolves when no
 * process of the group is left. It asks the group, not the child's exit event, because a service
 * that already died has sent that event, and its esbuild may still be running.
 */
export async function stopOffline(service: OfflineService, graceMs = 3000): Promise<void> {
  const pgid = service.process.pid;
  if (pgid === undefined) return;
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) {
      signalGroup(pgid, 'SIGKILL');
      break;
    }
    await sleep(50);
  }
  // After SIGKILL the group goes at once, but give the kernel a moment to reap it.
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await sleep(50);
  running.delete(service);
}

/** SIGKILL to every service's group this process started, synchronously: a forced stop or exit. */
export function killEveryOffline(): void {
  for (const service of running) {
    if (service.process.pid !== undefined) signalGroup(service.process.pid, 'SIGKILL');
  }
  running.clear();
}
