import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { functionEnv } from '../tools/local-stack/offline';
import { discoverServices, printConfig, ROOT } from '../tools/local-stack/services';
import { esbuildOptions, loadedAtStart, packageOf, readService, type ServiceSpec } from './serverless';
import { median, rowFromSamples, type BenchOptions, type Row } from './types';

const GROUP = 'bundles';
const execFileAsync = promisify(execFile);

/** IAM service prefix -> the SDK v3 client a function with that permission needs. */
const SDK_CLIENTS: Record<string, { pkg: string; client: string }> = {
  dynamodb: { pkg: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient' },
  sqs: { pkg: '@aws-sdk/client-sqs', client: 'SQSClient' },
  sns: { pkg: '@aws-sdk/client-sns', client: 'SNSClient' },
  ssm: { pkg: '@aws-sdk/client-ssm', client: 'SSMClient' },
  s3: { pkg: '@aws-sdk/client-s3', client: 'S3Client' },
  events: { pkg: '@aws-sdk/client-eventbridge', client: 'EventBridgeClient' },
  scheduler: { pkg: '@aws-sdk/client-scheduler', client: 'SchedulerClient' },
  secretsmanager: { pkg: '@aws-sdk/client-secrets-manager', client: 'SecretsManagerClient' },
  lambda: { pkg: '@aws-sdk/client-lambda', client: 'LambdaClient' },
  states: { pkg: '@aws-sdk/client-sfn', client: 'SFNClient' },
  // execute-api:ManageConnections: posting to WebSocket connections.
  'execute-api': {
    pkg: '@aws-sdk/client-apigatewaymanagementapi',
    client: 'ApiGatewayManagementApiClient',
  },
};

/**
 * The design floor: what the third-party libraries a function's stack loads cost on their own,
 * set up at module scope as a minimal handler would set them up, with no product code. Each entry
 * applies when the function's bundle loads its package at start. The floor is the bare handler
 * (same SDK clients and commands) plus these, so `floor / bare` is the share of a cold load the
 * design's libraries take, and `function / floor` what our own code adds on top.
 */
interface Library {
  pkg: string;
  imports: string[];
  /** Module-scope statements. */
  setup: string[];
  /** Middy middlewares it adds (`.use(...)`), when the handler is a Middy stack. */
  use?: string[];
}

const DESIGN_LIBRARIES: Library[] = [
  {
    pkg: 'zod',
    imports: ["import * as z from 'zod/mini';", "import { en } from 'zod/locales';"],
    setup: [
      'z.config(en());',
      "const schema = z.object({ id: z.string().check(z.minLength(1), z.maxLength(128)), note: z.optional(z.string()), kind: z.enum(['a', 'b']) });",
      'floor.push(schema);',
    ],
  },
  {
    pkg: '@aws-lambda-powertools/logger',
    imports: [
      "import { Logger } from '@aws-lambda-powertools/logger';",
      "import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';",
    ],
    setup: ['const logger = new Logger();', 'floor.push(logger);'],
    use: ['injectLambdaContext(logger, { resetKeys: true })'],
  },
  {
    pkg: '@aws-lambda-powertools/metrics',
    imports: [
      "import { Metrics } from '@aws-lambda-powertools/metrics';",
      "import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';",
    ],
    setup: ['const metrics = new Metrics();', 'floor.push(metrics);'],
    use: ['logMetrics(metrics)'],
  },
  {
    pkg: '@aws-sdk/lib-dynamodb',
    imports: [
      "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
      "import { DynamoDBClient as DocumentsBase } from '@aws-sdk/client-dynamodb';",
    ],
    setup: [
      'floor.push(DynamoDBDocumentClient.from(clients.find((client) => client instanceof DocumentsBase) ?? new DocumentsBase({})));',
    ],
  },
  ...(
    [
      ['@middy/http-header-normalizer', 'httpHeaderNormalizer', 'httpHeaderNormalizer()'],
      ['@middy/http-security-headers', 'httpSecurityHeaders', 'httpSecurityHeaders()'],
      ['@middy/http-cors', 'httpCors', "httpCors({ origins: ['https://example.com'] })"],
      ['@middy/http-json-body-parser', 'httpJsonBodyParser', 'httpJsonBodyParser()'],
    ] as const
  ).map(([pkg, name, use]) => ({ pkg, imports: [`import ${name} from '${pkg}';`], setup: [], use: [use] })),
];

interface ClientUse {
  pkg: string;
  client: string;
  commands: string[];
}

/**
 * A handler that creates `clients` and references the commands it may send (with the SDK's ES
 * builds, esbuild keeps only the commands imported), plus `libraries` set up at module scope; a
 * Middy stack when the function's own bundle loads Middy at start.
 */
function handlerSource(
  clients: ClientUse[],
  commands: string[],
  libraries: Library[],
  loadsAtStart: Set<string>,
): string {
  const middy = libraries.length > 0 && loadsAtStart.has('@middy/core');
  const uses = middy ? libraries.flatMap(({ use = [] }) => use) : [];
  const body = 'async () => ({ clients: clients.length, commands: commands.length, floor: floor.length })';
  return [
    ...clients.map(
      ({ pkg, client, commands }) => `import { ${[client, ...commands].join(', ')} } from '${pkg}';`,
    ),
    ...(middy ? ["import middy from '@middy/core';"] : []),
    ...libraries.flatMap(({ imports }) => imports),
    `const clients = [${clients.map(({ client }) => `new ${client}({})`).join(', ')}];`,
    `const commands = [${commands.join(', ')}];`,
    'const floor: unknown[] = [];',
    ...libraries.flatMap(({ setup }) => setup),
    middy
      ? `export const handler = middy(${body})${uses.map((use) => `.use(${use})`).join('')};`
      : `export const handler = ${body};`,
  ].join('\n');
}

/** `zod, Powertools logger + metrics, Middy (3)`: what a floor adds to its bare handler. */
function describeLibraries(libraries: Library[], loadsAtStart: Set<string>): string {
  const names = libraries.map(({ pkg }) => pkg);
  const powertools = names.filter((pkg) => pkg.startsWith('@aws-lambda-powertools/'));
  const middlewares = names.filter((pkg) => pkg.startsWith('@middy/')).length;
  const parts = [
    ...(names.includes('zod') ? ['zod/mini'] : []),
    ...(powertools.length ? [`Powertools ${powertools.map((pkg) => pkg.split('/')[1]).join(' + ')}`] : []),
    ...(loadsAtStart.has('@middy/core')
      ? [`Middy${middlewares ? ` (${middlewares} middlewares)` : ''}`]
      : []),
    ...(names.includes('@aws-sdk/lib-dynamodb') ? ['document client'] : []),
  ];
  return parts.join(', ') || 'no library';
}

/**
 * Imports the bundle once in a fresh process and prints the CPU milliseconds (user + system) the
 * import took: the entry and the chunks it imports statically, not those imported on first use.
 * CPU time, not wall time: on a shared machine the wall time of a 200 ms load swings by 3x with
 * other processes' load, while its CPU time moves by a few percent; on a dedicated Lambda core the
 * two are close (module loading reads only cached files).
 */
const LOAD_SCRIPT = [
  'const start = process.cpuUsage();',
  "import(require('node:url').pathToFileURL(process.argv[1]).href).then(() => {",
  '  const used = process.cpuUsage(start);',
  '  process.stdout.write(String((used.user + used.system) / 1000), () => process.exit(0));',
  '});',
].join('\n');

interface Bundle {
  file: string;
  /** Bytes of the entry file and of the chunks it imports statically (what a cold start reads). */
  bytes: number;
  /** The largest packages in those files (bytes of output each), from esbuild's metafile. */
  largest: [string, number][];
  /**
   * Packages the bundle evaluates when it loads: those with code in the entry or the chunks it
   * imports statically. A package reached only through `import()` ships in the bundle but loads on
   * first use, so it is no part of the cold load and not in the bare baseline either.
   */
  loadsAtStart: Set<string>;
}

interface Target {
  bundle: Bundle;
  env: NodeJS.ProcessEnv;
  loads: number[];
  /** Why requiring it failed (its rows are left out). */
  failed?: string;
}

interface Baseline {
  label: string;
  target: Target;
}

interface Floor extends Baseline {
  bare: Baseline;
}

interface Measured {
  service: string;
  fn: string;
  target: Target;
  /** The bare handler it is compared with; one per client set. */
  bare: Baseline;
  /** Its bare handler plus the design's libraries its bundle loads at start (DESIGN_LIBRARIES). */
  floor: Floor;
  /** The esbuild options its bundle was built with. */
  build: BuildOptions;
}

/** Builds `options` into `outdir` as `name` plus its chunks (the build may split). */
async function bundle(options: BuildOptions, outdir: string, name: string): Promise<Bundle> {
  const { metafile } = await build({
    ...options,
    outdir,
    entryNames: name,
    write: true,
    logLevel: 'silent',
    metafile: true,
  });
  // `import()` targets are entry points too; the function's own is the one named `name`.
  const file = Object.keys(metafile.outputs).find(
    (out) => !out.endsWith('.map') && path.parse(out).name === name,
  );
  if (!file) throw new Error(`${name}: the build wrote no entry point`);
  // What a cold start reads: the entry and the chunks it imports statically, transitively.
  const files = loadedAtStart(metafile, file);
  const byPackage = new Map<string, number>();
  for (const out of files) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[out]!.inputs)) {
      byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
    }
  }
  const largest = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 5);
  const absolute = (out: string) => path.resolve(options.absWorkingDir ?? process.cwd(), out);
  const sizes = await Promise.all([...files].map(async (out) => (await stat(absolute(out))).size));
  return {
    file: absolute(file),
    bytes: sizes.reduce((sum, size) => sum + size, 0),
    largest,
    // Only statically imported files are in `files`, so what has bytes in them loads at start.
    loadsAtStart: new Set([...byPackage].filter(([, bytes]) => bytes > 0).map(([pkg]) => pkg)),
  };
}

const kib = (bytes: number) => bytes / 1024;
const describeLargest = ({ largest }: Bundle) =>
  largest.map(([name, bytes]) => `${name} ${kib(bytes).toFixed(0)}`).join(', ');

/**
 * Each function's environment and the IAM actions its own role allows, as deployed at stage
 * `local` (the stage that resolves without an AWS account), from `serverless print`: the handlers
 * read their configuration at load time, and the grants the declared-resources plugin generates
 * (queue producers, consumers) are only in the printed configuration.
 */
async function functionSettings(
  service: ServiceSpec,
): Promise<Record<string, { env: Record<string, string>; actions: string[] }>> {
  type Env = Record<string, unknown> | undefined;
  const config = await printConfig<{
    provider?: { environment?: Env };
    functions?: Record<string, { environment?: Env; iamRoleStatements?: unknown }>;
  }>(service, 'local');
  const strings = (env: Env) =>
    Object.fromEntries(
      Object.entries(env ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  return Object.fromEntries(
    Object.entries(config.functions ?? {}).map(([fn, spec]) => [
      fn,
      {
        env: { ...strings(config.provider?.environment), ...strings(spec.environment) },
        actions: allowedActions(spec.iamRoleStatements),
      },
    ]),
  );
}

/** `service:Action` of every Allow statement (wildcards dropped: they name no one command). */
function allowedActions(statements: unknown): string[] {
  const actions = new Set<string>();
  for (const statement of Array.isArray(statements) ? statements : []) {
    const { Effect, Action } = (statement ?? {}) as { Effect?: unknown; Action?: unknown };
    if (Effect !== 'Allow') continue;
    for (const action of Array.isArray(Action) ? Action : [Action]) {
      if (typeof action === 'string' && /^[\w-]+:\w+$/.test(action)) actions.add(action);
    }
  }
  return [...actions].sort();
}

/** The SDK's command for an IAM action, when the client package has one (`dynamodb:PutItem`). */
async function commandsOf(pkg: string, actions: string[], prefix: string): Promise<string[]> {
  let exported: Record<string, unknown>;
  try {
    exported = (await import(require.resolve(pkg, { paths: [ROOT] }))) as Record<string, unknown>;
  } catch {
    return [];
  }
  return actions
    .filter((action) => action.startsWith(`${prefix}:`))
    .map((action) => `${action.slice(prefix.length + 1)}Command`)
    .filter((command) => typeof exported[command] === 'function');
}

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg, { paths: [ROOT] });
    return true;
  } catch {
    return false;
  }
}

async function loadMs(target: Target): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, ['-e', LOAD_SCRIPT, target.bundle.file], {
    cwd: path.dirname(target.bundle.file),
    env: target.env,
    timeout: 60_000,
  });
  const ms = Number(stdout);
  if (!Number.isFinite(ms)) throw new Error(`${target.bundle.file}: unexpected output ${stdout}`);
  return ms;
}

/** The function's bundle rebuilt with linked source maps, loaded with --enable-source-maps. */
async function withSourceMaps(of: Measured, dir: string): Promise<{ of: Measured; target: Target }> {
  const built = await bundle({ ...of.build, sourcemap: 'linked' }, path.join(dir, 'mapped'), 'mapped');
  const nodeOptions = `${of.target.env.NODE_OPTIONS ?? ''} --enable-source-maps`.trim();
  return { of, target: { bundle: built, env: { ...of.target.env, NODE_OPTIONS: nodeOptions }, loads: [] } };
}

/**
 * Minified bundle size and cold module-load time of every function in every service, against a
 * bare handler that only creates the SDK clients its IAM role lets it call and its bundle loads at
 * start (a client loaded on first use, as the SSM parameter reads are, is left out of both). Bundles
 * are built with the services' own esbuild settings; each load is a fresh `node` process requiring
 * the bundle, with the same environment and NODE_OPTIONS as the baseline's.
 */
export async function run(options: BenchOptions): Promise<Row[]> {
  const loads = options.quick ? 3 : 7;
  const dir = await mkdtemp(path.join(tmpdir(), 'offload-bench-'));
  try {
    // What every function process sees, locally and (in shape) on Lambda; nothing is called.
    const runtimeEnv: NodeJS.ProcessEnv = {
      ...functionEnv(
        { sqs: 'http://127.0.0.1:9', sns: 'http://127.0.0.1:9', dynamodb: 'http://127.0.0.1:9' },
        { baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'bench' },
      ),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };

    const services: ServiceSpec[] = [];
    for (const found of discoverServices()) {
      try {
        services.push(readService(found.name, found.dir));
      } catch (error) {
        console.warn(`${GROUP}: skipping ${found.name}: ${(error as Error).message}`);
      }
    }
    options.log(`${GROUP}: reading each function's environment and role (serverless print)`);
    const environments = await Promise.all(
      services.map((service) =>
        functionSettings(service).catch((error: unknown) => {
          console.warn(
            `${GROUP}: skipping ${service.name}: serverless print failed: ${(error as Error).message}`,
          );
          return undefined;
        }),
      ),
    );

    const builds = new Map<string, Promise<Bundle>>();
    const bares = new Map<string, Baseline>();
    const floors = new Map<string, Floor>();
    const measured: Measured[] = [];
    const leftOut = new Set<string>();
    for (const [index, service] of services.entries()) {
      const environment = environments[index];
      if (!environment) continue;
      const esbuild = esbuildOptions(service) as BuildOptions;
      options.log(`${GROUP}: building ${service.name} (${service.functions.length} functions)`);
      for (const fn of service.functions) {
        try {
          const buildOptions: BuildOptions = {
            ...esbuild,
            entryPoints: [fn.entry],
            absWorkingDir: service.dir,
          };
          let built = builds.get(fn.entry);
          if (!built) {
            built = bundle(buildOptions, path.join(dir, service.name), path.parse(fn.entry).name);
            builds.set(fn.entry, built);
          }
          const settings = environment[fn.name] ?? { env: {}, actions: [] };
          const env = { ...runtimeEnv, ...settings.env };
          const target: Target = { bundle: await built, env, loads: [] };
          options.log(
            `${GROUP}: ${service.name}/${fn.name} ${kib(target.bundle.bytes).toFixed(0)} KiB, largest (KiB): ${describeLargest(target.bundle)}`,
          );
          // The bare handler starts with the same NODE_OPTIONS as the function.
          const nodeOptions = env.NODE_OPTIONS ?? '';

          const prefixes = [...new Set(settings.actions.map((action) => action.split(':')[0]!))];
          const perPrefix = await Promise.all(
            prefixes.map(async (prefix) => {
              const client = SDK_CLIENTS[prefix];
              if (client && !target.bundle.loadsAtStart.has(client.pkg)) {
                options.log(`${GROUP}: ${service.name}/${fn.name} loads ${client.pkg} on first use`);
                return [];
              }
              if (client && installed(client.pkg)) {
                return [{ ...client, commands: await commandsOf(client.pkg, settings.actions, prefix) }];
              }
              // e.g. kms:Decrypt, which SSM uses on the function's behalf for SecureString parameters.
              if (!leftOut.has(prefix))
                console.warn(
                  `${GROUP}: no installed SDK client for ${prefix}:*, left out of the bare baselines`,
                );
              leftOut.add(prefix);
              return [];
            }),
          );
          const clients = perPrefix.flat();
          const commands = clients.flatMap(({ commands }) => commands);
          const label = clients.length
            ? `bare ${clients.map(({ pkg }) => pkg.replace('@aws-sdk/', '')).join(' + ')}, ${commands.length} commands`
            : 'bare (no SDK client)';
          const key = `${label}|${commands.join(',')}|${nodeOptions}|${JSON.stringify(esbuild)}`;
          const buildBaseline = async (libraries: Library[], name: string, sourcefile: string) =>
            bundle(
              {
                ...esbuild,
                stdin: {
                  contents: handlerSource(clients, commands, libraries, target.bundle.loadsAtStart),
                  loader: 'ts',
                  resolveDir: ROOT,
                  sourcefile,
                },
              },
              path.join(dir, 'bare'),
              name,
            );
          const baselineEnv = { ...runtimeEnv, NODE_OPTIONS: nodeOptions };
          let bare = bares.get(key);
          if (!bare) {
            bare = {
              label,
              target: {
                bundle: await buildBaseline([], `bare${bares.size}`, 'bare.ts'),
                env: baselineEnv,
                loads: [],
              },
            };
            bares.set(key, bare);
          }
          const libraries = DESIGN_LIBRARIES.filter(({ pkg }) => target.bundle.loadsAtStart.has(pkg));
          const floorLabel = `${label} + ${describeLibraries(libraries, target.bundle.loadsAtStart)}`;
          let floor = floors.get(`${key}|${floorLabel}`);
          if (!floor) {
            const bundled = await buildBaseline(libraries, `floor${floors.size}`, 'floor.ts');
            floor = { label: floorLabel, bare, target: { bundle: bundled, env: baselineEnv, loads: [] } };
            floors.set(`${key}|${floorLabel}`, floor);
          }
          measured.push({ service: service.name, fn: fn.name, target, bare, floor, build: buildOptions });
        } catch (error) {
          console.warn(`${GROUP}: skipping ${service.name}/${fn.name}: ${(error as Error).message}`);
        }
      }
    }

    // What source maps cost a cold start: the first function built again with linked maps and
    // loaded with --enable-source-maps (the setting before), against itself as configured.
    const mapped = measured[0] && (await withSourceMaps(measured[0], dir));

    // Interleaved: every bundle once per round, so a slow spell hits all of them alike.
    const targets = [
      ...measured.map(({ target }) => target),
      ...[...bares.values()].map(({ target }) => target),
      ...[...floors.values()].map(({ target }) => target),
      ...(mapped ? [mapped.target] : []),
    ];
    for (let round = 0; round < loads; round++) {
      options.log(`${GROUP}: cold loads, round ${round + 1}/${loads} (${targets.length} bundles)`);
      for (const target of targets.filter(({ failed }) => !failed)) {
        try {
          target.loads.push(await loadMs(target));
        } catch (error) {
          target.failed = (error as Error).message;
        }
      }
    }

    const loaded = measured.filter(({ service, fn, target, bare }) => {
      const failed = target.failed ?? bare.target.failed;
      if (failed) console.warn(`${GROUP}: skipping ${service}/${fn}: its cold load failed: ${failed}`);
      return !failed;
    });
    const mapRows: Row[] =
      mapped && !mapped.target.failed && !mapped.of.target.failed
        ? [
            rowFromSamples(
              {
                group: GROUP,
                name: `${mapped.of.service}/${mapped.of.fn} load, linked maps + --enable-source-maps`,
                unit: 'ms CPU',
                baseline: 'same function as configured (no maps)',
              },
              mapped.target.loads,
              mapped.of.target.loads,
            ),
          ]
        : [];
    const floorRows: Row[] = [...floors.values()]
      .filter(({ target, bare }) => !target.failed && !bare.target.failed)
      .flatMap((floor) => {
        const users = loaded.filter((of) => of.floor === floor).map(({ service, fn }) => `${service}/${fn}`);
        if (users.length === 0) return [];
        const more = users.length > 1 ? ` +${users.length - 1}` : '';
        return [
          rowFromSamples(
            {
              group: GROUP,
              name: `design floor of ${users[0]}${more}: ${floor.label.slice(floor.bare.label.length + 3)}`,
              unit: 'ms CPU',
              baseline: floor.bare.label,
            },
            floor.target.loads,
            floor.bare.target.loads,
          ),
        ];
      });
    return loaded
      .flatMap(({ service, fn, target, bare, floor }) => {
        const load = rowFromSamples(
          { group: GROUP, name: `${service}/${fn} load`, unit: 'ms CPU', baseline: bare.label },
          target.loads,
          bare.target.loads,
        );
        // What our own code adds to the design's libraries (JSON and progress line; the floor rows
        // hold each floor against its bare handler).
        const floorMs = floor.target.failed ? undefined : median(floor.target.loads);
        if (floorMs !== undefined) {
          load.details = { 'design floor, ms CPU': floorMs, 'load / design floor': load.value / floorMs };
          options.log(
            `${GROUP}: ${service}/${fn} ${load.value.toFixed(0)} ms: ${load.ratio.toFixed(2)}x bare, ` +
              `${(load.value / floorMs).toFixed(2)}x its design floor (${floorMs.toFixed(0)} ms)`,
          );
        }
        return [
          {
            group: GROUP,
            name: `${service}/${fn} size`,
            value: kib(target.bundle.bytes),
            unit: 'KiB',
            baseline: bare.label,
            baselineValue: kib(bare.target.bundle.bytes),
            ratio: target.bundle.bytes / bare.target.bundle.bytes,
          },
          load,
        ];
      })
      .concat(floorRows, mapRows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
