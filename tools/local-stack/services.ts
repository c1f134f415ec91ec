import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SERVERLESS_BIN = require.resolve('osls/bin/serverless.js');

/** Fixed order so every service keeps its port from run to run; new services go after these. */
const ORDER = ['task-api', 'ai-jobs', 'podcast-workers', 'batch-poller', 'live-updates'];

export interface ServiceDir {
  name: string;
  dir: string;
  /** Position in the port plan: HTTP base + index. */
  index: number;
}

/** Every folder under services/ with a serverless.yml, in port-plan order. */
export function discoverServices(only?: string[]): ServiceDir[] {
  const servicesDir = path.join(ROOT, 'services');
  const names = readdirSync(servicesDir)
    .filter((name) => existsSync(path.join(servicesDir, name, 'serverless.yml')))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names
    .map((name, index) => ({ name, dir: path.join(servicesDir, name), index }))
    .filter((service) => !only || only.includes(service.name));
}

/**
 * The services that run something locally: those with functions. The alarm stack (topic and
 * dashboard only) is packaged and deployed, but nothing locally consumes alarms.
 */
export function discoverRunnableServices(only?: string[]): ServiceDir[] {
  return discoverServices(only).filter((service) =>
    /^functions:/m.test(readFileSync(path.join(service.dir, 'serverless.yml'), 'utf8')),
  );
}

function rank(name: string): number {
  const index = ORDER.indexOf(name);
  return index === -1 ? ORDER.length : index;
}

/** Environment for the Serverless CLI: quiet, no telemetry, never an AWS account. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    ...extra,
  };
}

export type CfnResources = Record<
  string,
  { Type: string; Condition?: string; Properties?: Record<string, unknown> }
>;

export interface ResolvedService {
  service: string;
  resources: CfnResources;
  /** Which kinds of event serve its functions: `http` (HTTP API routes) and `websocket` routes. */
  serves: { http: boolean; websocket: boolean };
}

/**
 * The service's configuration with every ${...} variable resolved, straight from the Serverless
 * CLI, so provisioning reads exactly what a deploy would send to CloudFormation.
 */
export async function printService(service: ServiceDir, stage: string): Promise<ResolvedService> {
  const config = await printConfig<{
    service: string;
    resources?: { Resources?: CfnResources };
    functions?: Record<string, { events?: Record<string, unknown>[] }>;
  }>(service, stage);
  const events = Object.values(config.functions ?? {}).flatMap((fn) =>
    (fn.events ?? []).flatMap((event) => Object.keys(event)),
  );
  return {
    service: config.service,
    resources: config.resources?.Resources ?? {},
    serves: {
      http: events.includes('httpApi') || events.includes('http'),
      websocket: events.includes('websocket'),
    },
  };
}

/** `serverless print` of a service at a stage: its configuration with every variable resolved. */
export async function printConfig<Config>(service: Pick<ServiceDir, 'dir'>, stage: string): Promise<Config> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [SERVERLESS_BIN, 'print', '--stage', stage, '--format', 'json'],
    { cwd: service.dir, env: cliEnv(), maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as Config;
}
