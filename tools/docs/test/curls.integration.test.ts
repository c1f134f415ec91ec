import { readFileSync } from 'node:fs';
import path from 'node:path';
import { discoverServices } from '../../local-stack/services';
import { buildScript, isRunnable, retarget } from '../curls';
import { ROOT, docFiles, parseDoc } from '../markdown';
import { runDoc } from '../run';

// The ports and stage the docs are written for: `npm start` with its defaults.
const DOCUMENTED_HTTP_BASE = 3000;
const TEST_STAGE = 'test';

/** Documented port -> the stack's port, from the URLs the integration globalSetup exports. */
function portPlan(): Map<number, number> {
  const plan = new Map<number, number>();
  for (const { name, index } of discoverServices()) {
    const env = name.toUpperCase().replace(/-/g, '_');
    for (const [suffix, offset] of [
      ['URL', 0],
      ['LAMBDA_URL', 100],
      ['WS_URL', 200],
    ] as const) {
      const url = process.env[`${env}_${suffix}`];
      if (url) plan.set(DOCUMENTED_HTTP_BASE + offset + index, Number(new URL(url).port));
    }
  }
  return plan;
}

const docs = docFiles()
  .map((file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    return { file, text, blocks: parseDoc(text).blocks };
  })
  .filter(({ blocks }) => blocks.some(isRunnable));

let documented = 0;
let calls = 0;

describe('every curl in the READMEs and docs/, verbatim, against the local stack', () => {
  afterAll(() => {
    process.stdout.write(
      `Doc test: ${documented} documented curls in ${docs.length} files, ${calls} curl calls made\n`,
    );
  });

  it.each(docs.map(({ file }) => file))(
    '%s',
    async (file) => {
      const { text, blocks } = docs.find((doc) => doc.file === file)!;
      const { script, curls } = buildScript(blocks, text.split('\n'));
      const run = await runDoc(file, retarget(script, portPlan(), TEST_STAGE), curls);
      documented += curls.length;
      calls += run.calls.length;
      expect(curls.length).toBeGreaterThan(0);
      const failed = run.calls.filter(
        (call) => call.exitCode !== 0 || call.status < 200 || call.status > 299,
      );
      // The doc's own output shows where it went wrong (the curl's answer, node's error).
      if (run.exitCode !== 0 || failed.length || run.problems.length)
        process.stderr.write(`\n${file} printed:\n${run.output.slice(-4000)}\n`);
      expect(run.problems).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(failed).toEqual([]);
    },
    300_000,
  );
});
