import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const HERE = __dirname;

/** What a static host serves: the page, its script and styles (config.json is written per stage). */
export type PageFiles = Record<string, string>;

/**
 * Bundles the page in memory: one minified ES module for modern browsers, plus the HTML and CSS
 * as they are. `npm start` serves these; `npm run build:page` writes them to a folder.
 */
export async function buildJobsPage(): Promise<PageFiles> {
  const result = await build({
    entryPoints: [path.join(HERE, 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    write: false,
    outfile: 'app.js',
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const [script] = result.outputFiles;
  return {
    'index.html': await readFile(path.join(HERE, 'index.html'), 'utf8'),
    'styles.css': await readFile(path.join(HERE, 'styles.css'), 'utf8'),
    'app.js': script!.text,
  };
}
