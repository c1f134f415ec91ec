import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { discoverServices } from '../local-stack/services';
import { formatResult, inBatches, packageService } from './packager';

// Packages every service (CloudFormation template + one zip per function) into its .serverless/,
// with no AWS account and no network:
//   npm run package                          stage dev, every service
//   npm run package -- --stage prod task-api
// Each service's esbuild already uses two workers, so services run two at a time only with four
// or more CPUs (on two, sequential measured as fast, with clean per-service times).
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stage: { type: 'string', default: 'dev' },
    concurrency: { type: 'string', default: String(availableParallelism() >= 4 ? 2 : 1) },
  },
});

async function main() {
  const services = discoverServices(positionals.length > 0 ? positionals : undefined);
  const unknown = positionals.filter((name) => !services.some((service) => service.name === name));
  if (services.length === 0 || unknown.length > 0) {
    throw new Error(`No such service (with a serverless.yml): ${unknown.join(', ') || '(none found)'}`);
  }
  const stage = values.stage!;
  const concurrency = Number(values.concurrency);
  const width = Math.max(...services.map((service) => service.name.length));
  const count = (n: number) => `${n} service${n === 1 ? '' : 's'}`;
  console.log(`Packaging ${count(services.length)} for stage ${stage}, ${concurrency} at a time`);

  const started = performance.now();
  const results = await inBatches(
    services,
    concurrency,
    (service) => packageService(service, stage),
    (result) => {
      for (const line of formatResult(result, width)) console.log(line);
      if (!result.ok) console.error(result.output.trimEnd());
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((result) => !result.ok).map((result) => result.service);
  if (failed.length > 0) {
    console.error(`Packaging failed for ${failed.join(', ')} (${seconds.toFixed(1)} s)`);
    process.exit(1);
  }
  console.log(
    `Packaged ${results.length} services in ${seconds.toFixed(1)} s (templates in services/*/.serverless/)`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
