import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Row, RowGroup } from './types';

// `npm run bench [-- --quick] [-- --only middleware,bundles]`: one table, every figure a ratio
// against a baseline measured in the same run; the same rows go to bench/results/<timestamp>.json.

// `npm run bench` runs with --conditions=import: the middleware group loads the shared stacks from
// source, and Middy 7 exports only an `import` condition, which CommonJS require (tsx's mode for
// this package) does not match otherwise. Node 24 can require() the ES module it then resolves.

/** Row groups in run order, each a module exporting `run: RowGroup`. Register a new one here. */
const GROUPS: Record<string, () => Promise<{ run: RowGroup }>> = {
  middleware: () => import('./middleware'),
  bundles: () => import('./bundles'),
  pipeline: () => import('./pipeline'),
  'batch-poller': () => import('./batchPoller'),
  cost: () => import('./cost'),
};

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
  },
});

function machine() {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
  };
}

function format(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${unit}`;
}

function table(rows: Row[]): string {
  const header = ['group', 'row', 'value', 'baseline', 'ratio'];
  const cells = rows.map((row) => [
    row.group,
    row.name,
    format(row.value, row.unit),
    `${format(row.baselineValue, row.baselineUnit ?? row.unit)}  ${row.baseline}`,
    `${row.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column]!.length)),
  );
  // Figures are right-aligned, names left-aligned; the baseline cell starts with its figure.
  const right = new Set([2, 4]);
  const line = (cell: string[]) =>
    cell
      .map((text, column) =>
        right.has(column) ? text.padStart(widths[column]!) : text.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

async function main() {
  const only = (values.only ?? []).flatMap((value) => value.split(',')).filter(Boolean);
  const unknown = only.filter((name) => !(name in GROUPS));
  if (unknown.length) {
    throw new Error(`Unknown row group ${unknown.join(', ')}; known: ${Object.keys(GROUPS).join(', ')}`);
  }
  const selected = Object.keys(GROUPS).filter((name) => only.length === 0 || only.includes(name));
  const quick = values.quick ?? false;
  const started = new Date();
  const host = machine();
  const log = (line: string) => console.error(`[bench] ${line}`);

  // A group that fails is reported and the others still run: one broken group must not throw
  // away minutes of measurements.
  const rows: Row[] = [];
  const errors: { group: string; error: string }[] = [];
  for (const name of selected) {
    try {
      const { run } = await GROUPS[name]!();
      rows.push(...(await run({ quick, log })));
    } catch (error) {
      errors.push({ group: name, error: error instanceof Error ? error.message : String(error) });
      console.error(`[bench] ${name} failed: ${error instanceof Error ? error.stack : error}`);
    }
  }
  const seconds = (Date.now() - started.getTime()) / 1000;

  console.log(
    `Offload bench ${started.toISOString()}${quick ? ' (quick: smoke run, small N)' : ''}\n` +
      `${host.os}; ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB; Node ${host.node}; ` +
      `load average at start ${host.loadAverage.join(' ')}\n`,
  );
  console.log(table(rows));

  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const result = {
    startedAt: started.toISOString(),
    seconds,
    quick,
    groups: selected,
    machine: host,
    rows,
    errors,
  };
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  for (const { group, error } of errors) console.log(`\n${group} FAILED: ${error}`);
  console.log(`\n${rows.length} rows in ${seconds.toFixed(0)} s; ${path.relative(process.cwd(), file)}`);
  if (errors.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
