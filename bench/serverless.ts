import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import yaml from 'js-yaml';

// Reads services' serverless.yml as plain YAML: enough for functions, handlers, IAM actions,
// params and the esbuild settings, without the Serverless CLI.

/** CloudFormation's short-form tags (`!GetAtt`, `!Ref`, ...), read as `{ tag: value }`. */
const CFN_TAGS = [
  'Base64',
  'Cidr',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'And',
  'Ref',
  'Select',
  'Split',
  'Sub',
  'Transform',
];
const SCHEMA = yaml.DEFAULT_SCHEMA.extend(
  CFN_TAGS.flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => ({ [tag]: data }) }),
    ),
  ),
);

type Yaml = Record<string, unknown>;

function isObject(value: unknown): value is Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readYaml(file: string): Yaml {
  const document = yaml.load(readFileSync(file, 'utf8'), { schema: SCHEMA, filename: file });
  if (!isObject(document)) throw new Error(`${file} is not a YAML mapping`);
  return document;
}

function at(document: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), document);
}

/** Follows a `${file(relative/path.yml):dotted.path}` reference, the only variable resolved here. */
function follow(value: unknown, dir: string): unknown {
  const ref = typeof value === 'string' ? /^\$\{file\(([^)]+)\):([\w.-]+)\}$/.exec(value) : null;
  return ref ? at(readYaml(path.resolve(dir, ref[1]!)), ref[2]!) : value;
}

export interface FunctionSpec {
  name: string;
  /** Absolute path of the handler's source file. */
  entry: string;
}

export interface ServiceSpec {
  name: string;
  dir: string;
  yaml: Yaml;
  functions: FunctionSpec[];
}

const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** `src/handlers/x.handler` -> `<service>/src/handlers/x.ts` (whichever source file exists). */
function entryOf(dir: string, handler: string): string {
  const base = path.join(dir, handler.slice(0, handler.lastIndexOf('.')));
  const found = SOURCE_EXTENSIONS.map((extension) => base + extension).find((file) => existsSync(file));
  if (found) return found;
  throw new Error(`No source file for handler ${handler} in ${dir}`);
}

export function readService(name: string, dir: string): ServiceSpec {
  const document = readYaml(path.join(dir, 'serverless.yml'));
  const functions = Object.entries(isObject(document.functions) ? document.functions : {}).map(
    ([fn, spec]) => {
      const handler = isObject(spec) ? spec.handler : undefined;
      if (typeof handler !== 'string') throw new Error(`${name}/${fn} has no handler`);
      return {
        name: fn,
        entry: entryOf(dir, handler),
      };
    },
  );
  return { name, dir, yaml: document, functions };
}

/** A param as the given stage sees it: the stage's own value, else `default`. */
export function param(service: ServiceSpec, stage: string, key: string): unknown {
  const params = isObject(service.yaml.params) ? service.yaml.params : {};
  const own = at(params, `${stage}.${key}`);
  return own !== undefined ? own : at(params, `default.${key}`);
}

// serverless-esbuild's own settings, which it strips before calling esbuild (see its bundle.ts).
const PLUGIN_ONLY = [
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
  'config',
  // A path here; replaced by the plugins that file exports, as serverless-esbuild does.
  'plugins',
];

/**
 * The esbuild options serverless-esbuild would use for this service: its defaults, the target
 * from the runtime, then `custom.esbuild` (in this repo a reference to serverless/base.yml).
 * `exclude` becomes `external`, `outputFileExtension` becomes `outExtension` and `plugins` (a file,
 * relative to the service) becomes the esbuild plugins that file exports, as the plugin does.
 */
export function esbuildOptions(service: ServiceSpec): Record<string, unknown> {
  const runtime = follow(at(service.yaml, 'provider.runtime'), service.dir);
  const version = typeof runtime === 'string' ? /^nodejs(\d+)\.x$/.exec(runtime)?.[1] : undefined;
  const custom = follow(at(service.yaml, 'custom.esbuild'), service.dir);
  const merged: Yaml = {
    bundle: true,
    platform: 'node',
    target: version ? `node${version}` : 'node18',
    external: [],
    exclude: ['aws-sdk'],
    ...(isObject(custom) ? custom : {}),
  };
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
  const exclude = strings(merged.exclude);
  const options = Object.fromEntries(Object.entries(merged).filter(([key]) => !PLUGIN_ONLY.includes(key)));
  const extension = typeof merged.outputFileExtension === 'string' ? merged.outputFileExtension : '.js';
  const plugins =
    typeof merged.plugins === 'string'
      ? (createRequire(path.join(service.dir, 'serverless.yml'))(
          path.resolve(service.dir, merged.plugins),
        ) as unknown[])
      : undefined;
  return {
    ...options,
    ...(plugins && { plugins }),
    ...(extension !== '.js' && { outExtension: { '.js': extension } }),
    external: [...strings(merged.external), ...(exclude.includes('*') ? [] : exclude)],
  };
}

/** A bundle's output files a cold start reads: `entry` and what it imports statically, transitively. */
export function loadedAtStart(metafile: Metafile, entry: string): Set<string> {
  const files = new Set<string>();
  for (let pending = [entry]; pending.length > 0;) {
    const next = pending.pop()!;
    if (files.has(next)) continue;
    files.add(next);
    for (const { path: imported, kind } of metafile.outputs[next]?.imports ?? []) {
      if (kind === 'import-statement' && metafile.outputs[imported]) pending.push(imported);
    }
  }
  return files;
}

/** `node_modules/@scope/name/...` -> `@scope/name`; the repo's own libs and services -> `(own code)`. */
export function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(own code)';
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}
