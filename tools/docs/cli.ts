import { parseArgs } from 'node:util';
import { docFiles } from './markdown';
import { runDocFile, runnableDocs } from './run';

/**
 * `npm run test:docs`: the doc test against a stack you started yourself (`npm start`, stage
 * `local`), e.g. `npm run test:docs -- --http-port 4000` beside `npm start -- --http-port 4000`.
 * Only the documented HTTP base (3000) moves; the stage is the documented one.
 */
const DOCUMENTED_HTTP_BASE = 3000;
const { values, positionals } = parseArgs({
  options: {
    'http-port': { type: 'string', default: process.env.HTTP_PORT ?? String(DOCUMENTED_HTTP_BASE) },
  },
  allowPositionals: true,
});
const base = Number(values['http-port']);
const ports = new Map<number, number>();
for (let offset = 0; offset < 300; offset++) ports.set(DOCUMENTED_HTTP_BASE + offset, base + offset);

async function main(): Promise<number> {
  let failures = 0;
  let documented = 0;
  let calls = 0;
  for (const file of runnableDocs(positionals.length ? positionals : docFiles())) {
    const started = Date.now();
    const run = await runDocFile(file, ports, 'local');
    documented += run.curls.length;
    calls += run.calls.length;
    const took = `${run.curls.length} curls, ${run.calls.length} calls, ${Date.now() - started} ms`;
    console.log(`${run.ok ? 'ok  ' : 'FAIL'} ${file}: ${took}`);
    if (run.ok) continue;
    failures++;
    for (const problem of run.problems) console.log(`  ${problem}`);
    for (const call of run.failed)
      console.log(`  curl #${call.id} answered ${call.status} (exit ${call.exitCode})`);
    console.log(run.output.slice(-2000).replace(/^/gm, '  | '));
  }
  console.log(`${documented} documented curls, ${calls} calls, ${failures} failing files`);
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
