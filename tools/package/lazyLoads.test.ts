import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { esbuildOptions, loadedAtStart, packageOf, readService } from '../../bench/serverless';

const ROOT = path.join(__dirname, '..', '..');

/** Builds one function as serverless-esbuild would; the packages in its bundle, by when they load. */
async function packagesOf(service: string, fn: string, outdir: string) {
  const spec = readService(service, path.join(ROOT, 'services', service));
  const entry = spec.functions.find(({ name }) => name === fn)?.entry;
  if (!entry) throw new Error(`${service}/${fn} is not in its serverless.yml`);
  const { metafile } = await build({
    ...(esbuildOptions(spec) as BuildOptions),
    entryPoints: [entry],
    absWorkingDir: spec.dir,
    outdir,
    entryNames: fn,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = Object.keys(metafile.outputs);
  const main = outputs.find((out) => out.endsWith(`/${fn}.mjs`))!;
  const packagesIn = (files: Iterable<string>) =>
    new Set(
      [...files].flatMap((out) =>
        Object.keys(metafile.outputs[out]!.inputs)
          .map(packageOf)
          .filter((pkg) => pkg !== '(own code)'),
      ),
    );
  return { atStart: packagesIn(loadedAtStart(metafile, main)), bundled: packagesIn(outputs) };
}

describe('what a function loads at a cold start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'offload-lazy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a worker whose only SQS call is a dead letter loads the SQS client with its first dead letter', async () => {
    const { atStart, bundled } = await packagesOf('task-api', 'processTasks', dir);

    expect(atStart.has('@aws-sdk/client-sqs')).toBe(false);
    // Still in its zip, for the DLQ path.
    expect(bundled.has('@aws-sdk/client-sqs')).toBe(true);
    expect(atStart.has('@aws-sdk/client-dynamodb')).toBe(true);
  });

  it('a worker that sends on every run loads the SQS client at start', async () => {
    const { atStart } = await packagesOf('ai-jobs', 'processJobs', dir);

    expect(atStart.has('@aws-sdk/client-sqs')).toBe(true);
  });
});
