import { discoverServices } from '../../local-stack/services';
import { docFiles } from '../markdown';
import { runDocFile, runnableDocs } from '../run';

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

const docs = runnableDocs(docFiles());
let documented = 0;
let calls = 0;

describe('every curl in the READMEs and docs/, verbatim, against the local stack', () => {
  afterAll(() => {
    process.stdout.write(
      `Doc test: ${documented} documented curls in ${docs.length} files, ${calls} curl calls made\n`,
    );
  });

  it.each(docs)(
    '%s',
    async (file) => {
      const run = await runDocFile(file, portPlan(), TEST_STAGE);
      documented += run.curls.length;
      calls += run.calls.length;
      expect(run.curls.length).toBeGreaterThan(0);
      // The doc's own output shows where it went wrong (the curl's answer, node's error).
      if (!run.ok) process.stderr.write(`\n${file} printed:\n${run.output.slice(-4000)}\n`);
      expect(run.problems).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(run.failed).toEqual([]);
    },
    300_000,
  );
});
