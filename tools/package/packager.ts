import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { cliEnv, SERVERLESS_BIN, type ServiceDir } from '../local-stack/services';

export const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

export interface FunctionBundle {
  name: string;
  /** The deployment artifact (.zip) as uploaded. */
  zipBytes: number;
  /** The bundled handler JavaScript, uncompressed, without its source map. */
  jsBytes: number;
  /** Everything in the zip, uncompressed. */
  unzippedBytes: number;
}

export interface PackageResult {
  service: string;
  ok: boolean;
  seconds: number;
  bundles: FunctionBundle[];
  /** The CLI's output, kept for failures. */
  output: string;
}

/**
 * The Serverless CLI's environment for packaging: dummy credentials and no profile, so packaging
 * can never read a real account (a `${cf:...}` or `${ssm:...}` variable would fail, not resolve).
 */
export function packageEnv(): NodeJS.ProcessEnv {
  const env = cliEnv({ AWS_ACCESS_KEY_ID: 'package-offline', AWS_SECRET_ACCESS_KEY: 'package-offline' });
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return env;
}

/** `serverless package --stage <stage>` in one service, into a clean `.serverless/`. */
export function packageService(service: ServiceDir, stage: string): Promise<PackageResult> {
  const started = performance.now();
  const outDir = path.join(service.dir, '.serverless');
  rmSync(outDir, { recursive: true, force: true });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SERVERLESS_BIN, 'package', '--stage', stage],
      { cwd: service.dir, env: packageEnv(), maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const seconds = (performance.now() - started) / 1000;
        const ok = !error && existsSync(path.join(outDir, TEMPLATE_FILE));
        resolve({
          service: service.name,
          ok,
          seconds,
          bundles: ok ? bundleSizes(outDir) : [],
          output: `${stdout}${stderr}`,
        });
      },
    );
  });
}

/** Runs `task` over `items`, at most `concurrency` at a time, keeping the input order in results. */
export async function inBatches<T, R>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
  onResult?: (result: R) => void,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
      onResult?.(results[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** Sizes of every function artifact in a `.serverless/` directory. */
export function bundleSizes(outDir: string): FunctionBundle[] {
  return readdirSync(outDir)
    .filter((file) => file.endsWith('.zip'))
    .sort()
    .map((file) => {
      const zipPath = path.join(outDir, file);
      const entries = zipEntries(readFileSync(zipPath));
      const js = entries.filter((entry) => /\.m?js$/.test(entry.name));
      return {
        name: file.replace(/\.zip$/, ''),
        zipBytes: statSync(zipPath).size,
        jsBytes: js.reduce((sum, entry) => sum + entry.size, 0),
        unzippedBytes: entries.reduce((sum, entry) => sum + entry.size, 0),
      };
    });
}

/** Names and uncompressed sizes from a zip's central directory (no zip64: artifacts are small). */
export function zipEntries(zip: Buffer): { name: string; size: number }[] {
  const END_OF_DIRECTORY = 0x06054b50;
  const DIRECTORY_ENTRY = 0x02014b50;
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_DIRECTORY) end -= 1;
  if (end < 0) throw new Error('Not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: { name: string; size: number }[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(offset) !== DIRECTORY_ENTRY) throw new Error('Corrupt zip central directory');
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({ name: zip.toString('utf8', offset + 46, offset + 46 + nameLength), size });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
  return `${Math.round(bytes / 1024)} KB`;
}

export function formatResult(result: PackageResult, width: number): string[] {
  const head = `${result.service.padEnd(width)} ${result.seconds.toFixed(1).padStart(5)} s`;
  if (!result.ok) return [`${head}  FAILED`];
  const zipped = result.bundles.reduce((sum, bundle) => sum + bundle.zipBytes, 0);
  const lines = [`${head}  ${result.bundles.length} functions, ${formatBytes(zipped)} zipped`];
  const nameWidth = Math.max(...result.bundles.map((bundle) => bundle.name.length));
  for (const bundle of result.bundles) {
    lines.push(
      `  ${bundle.name.padEnd(nameWidth)}  ${formatBytes(bundle.zipBytes).padStart(9)} zip` +
        `  ${formatBytes(bundle.jsBytes).padStart(9)} js  ${formatBytes(bundle.unzippedBytes).padStart(9)} js+map`,
    );
  }
  return lines;
}
