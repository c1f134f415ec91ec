import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from './src/api';
import { buildJobsPage } from './build';

const USAGE = `Usage: npm run build:page -- [--out dist/jobs-page] [--jobs-api-url URL --batch-api-url URL [--websocket-url URL]]

Writes the jobs page as static files. With the API URLs (a stage's HttpApiUrl outputs and its
WebSocket URL) it also writes config.json; without them, write config.json yourself beside index.html.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join('dist', 'jobs-page') },
      'jobs-api-url': { type: 'string' },
      'batch-api-url': { type: 'string' },
      'websocket-url': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const out = path.resolve(values.out!);
  const files = await buildJobsPage();
  if (values['jobs-api-url'] || values['batch-api-url'] || values['websocket-url']) {
    // Validated as the page will read it, so a typo fails here rather than in a browser.
    const config = parseConfig({
      jobs_api_url: values['jobs-api-url'],
      batch_api_url: values['batch-api-url'],
      websocket_url: values['websocket-url'],
    });
    files['config.json'] = `${JSON.stringify(config, null, 2)}\n`;
  }
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(out, name), content);
  process.stdout.write(
    `Jobs page written to ${path.relative(process.cwd(), out) || '.'}: ${Object.keys(files).join(', ')}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
