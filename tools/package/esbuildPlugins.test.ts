import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';

// The esbuild plugins every service builds with (serverless/base.yml, `esbuild.plugins`).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plugins: Plugin[] = require(path.join(__dirname, '..', '..', 'serverless', 'esbuild-plugins.cjs'));
const execFileAsync = promisify(execFile);

// What the SDK's ES builds do: named imports of Node's modules, one of them behind `import()`.
// A default import and an export defined by a getter (`fs.promises`) too.
const SOURCE = [
  "import { request } from 'node:http';",
  "import { createHash } from 'crypto';",
  "import path, { promises } from 'node:fs';",
  'export const handler = async () => ({',
  "  digest: createHash('sha256').update('x').digest('hex').slice(0, 8),",
  '  request: typeof request,',
  '  promises: typeof promises.readFile,',
  '  fs: typeof path.readFileSync,',
  "  lazy: typeof (await import('node:zlib')).gzipSync,",
  '});',
].join('\n');

const RESULT = {
  digest: '2d711642',
  request: 'function',
  promises: 'function',
  fs: 'function',
  lazy: 'function',
};

// Imports the bundle in a fresh process, calls its handler and lists whether undici was loaded.
const RUN = [
  "import(require('node:url').pathToFileURL(process.argv[1]).href)",
  '  .then((m) => m.handler())',
  '  .then((result) => console.log(JSON.stringify({ result,',
  "    undici: process.moduleLoadList.some((m) => m.includes('undici')) })));",
].join('\n');

describe('esbuild plugins', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'offload-plugins-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function bundleAndRun(name: string, withPlugins: boolean) {
    await build({
      stdin: { contents: SOURCE, loader: 'ts', resolveDir: dir, sourcefile: `${name}.ts` },
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      outfile: path.join(dir, `${name}.mjs`),
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      plugins: withPlugins ? plugins : [],
      logLevel: 'silent',
    });
    const code = await readFile(path.join(dir, `${name}.mjs`), 'utf8');
    const { stdout } = await execFileAsync(process.execPath, ['-e', RUN, path.join(dir, `${name}.mjs`)]);
    return { code, ...(JSON.parse(stdout) as { result: unknown; undici: boolean }) };
  }

  it("loads Node's own modules through require, so importing http does not load undici", async () => {
    const { code, result, undici } = await bundleAndRun('with', true);

    expect(code).not.toMatch(/from\s*"(node:)?(http|crypto|fs)"/);
    expect(code).not.toMatch(/import\("node:zlib"\)/);
    expect(result).toEqual(RESULT);
    expect(undici).toBe(false);
  });

  it('reads only the names a bundle imports: no copy of a whole module, except behind import()', async () => {
    const { code } = await bundleAndRun('with', true);

    // esbuild's CommonJS interop copies every export of a module into a getter at load (about 100
    // for crypto); a statically imported built-in module is read name by name instead.
    expect(code).not.toMatch(/__toESM\(require_node_(http|crypto|fs)\(\)/);
    expect(code).toMatch(/builtin\w*\.createHash/);
    expect(code).not.toMatch(/builtin\w*\.createHmac/);
    // `import()` needs the whole namespace, so that one keeps the lazy getters.
    expect(code).toMatch(/__toESM\(require_node_zlib\(\)/);
  });

  it('is what keeps undici out: the same bundle built without it loads undici', async () => {
    const { code, result, undici } = await bundleAndRun('without', false);

    expect(code).toMatch(/from\s*"node:http"/);
    expect(result).toEqual(RESULT);
    expect(undici).toBe(true);
  });
});
