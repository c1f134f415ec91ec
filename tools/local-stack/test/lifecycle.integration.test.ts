import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { READY, SERVICE_EXITED, type ReadyLine } from '../child';
import { groupAlive } from '../offline';
import { ROOT } from '../services';

// These tests start their own stacks, as a developer would (`npm start`), beside the one the
// integration globalSetup shares with the other suites; each stack takes HTTP base..base+203.
const SHARED_BASE = Number(process.env.TEST_HTTP_PORT ?? '13000');
const STOP_BUDGET_MS = 10_000;

interface NpmStack {
  /** npm's pid and process group: npm, start.ts and everything not in a service's own group. */
  npm: ChildProcess;
  ready: ReadyLine;
  stderr: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every process group it started: npm's and each service's. */
  groups: number[];
}

const started: NpmStack[] = [];

async function npmStart(httpBase: number, services: string[]): Promise<NpmStack> {
  const args = ['start', '--', '--machine', '--stage', 'local', '--http-port', String(httpBase)];
  for (const service of services) args.push('--service', service);
  args.push('--sqs-port', '0', '--dynamodb-port', '0', '--openai-port', '0');
  // Its own group, so the test can tell when all of it is gone (and clean up if a test fails).
  const npm = spawn('npm', args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: npm.stderr! }).on('line', (line) => stderr.push(line));
  const exit = once(npm, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    void exit.then(({ code }) =>
      reject(new Error(`npm start exited with ${code} before ready:\n${stderr.slice(-20).join('\n')}`)),
    );
    createInterface({ input: npm.stdout! }).on('line', (line) => {
      if (line.startsWith(READY)) resolve(JSON.parse(line.slice(READY.length)) as ReadyLine);
    });
  });
  const stack = { npm, ready, stderr, exit, groups: [npm.pid!, ...Object.values(ready.pids)] };
  started.push(stack);
  return stack;
}

/** Milliseconds until no process of any of the groups is left, or throws after `budgetMs`. */
async function goneWithin(groups: number[], budgetMs: number, since = Date.now()): Promise<number> {
  while (groups.some(groupAlive)) {
    if (Date.now() - since > budgetMs) {
      throw new Error(`still running after ${budgetMs} ms: groups ${groups.filter(groupAlive).join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - since;
}

async function postTask(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'dev-key-alice' },
    body: JSON.stringify({
      title: 'Packaging beside a running stack',
      description: 'The stack keeps its own bundles',
      priority: 'High',
      due_date: '2026-12-01',
    }),
  });
  return { status: res.status, body: await res.text() };
}

afterAll(() => {
  for (const group of started.flatMap((stack) => stack.groups)) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
});

describe('a running npm start (task-api alone)', () => {
  let stack: NpmStack;
  beforeAll(async () => {
    stack = await npmStart(SHARED_BASE + 300, ['task-api']);
  });

  test('keeps answering POST /tasks with 202 while npm run package builds the same service', async () => {
    expect((await postTask(stack.ready.urls['task-api']!)).status).toBe(202);

    const packaging = Date.now();
    await promisify(execFile)('npm', ['run', 'package', '--', 'task-api'], { cwd: ROOT });
    console.log(`npm run package -- task-api beside the stack: ${Date.now() - packaging} ms`);

    expect(await postTask(stack.ready.urls['task-api']!)).toEqual({
      status: 202,
      body: expect.stringContaining('"status":"queued"'),
    });
  });

  test('reports a service that dies in one line and stops entirely with exit code 1', async () => {
    const killed = Date.now();
    process.kill(-stack.ready.pids['task-api']!, 'SIGKILL');
    const { code } = await stack.exit;
    const stoppedMs = await goneWithin(stack.groups, STOP_BUDGET_MS, killed);
    console.log(`stack gone ${stoppedMs} ms after its only service was killed`);

    expect(code).toBe(1);
    const reports = stack.stderr.filter((line) => line.startsWith(SERVICE_EXITED));
    expect(reports).toEqual([
      expect.stringMatching(/^SERVICE EXITED task-api: .*signal SIGKILL.*last output/),
    ]);
    // The lines after the report are the service's own last output.
    const next = stack.stderr[stack.stderr.indexOf(reports[0]!) + 1];
    expect(next).toMatch(/^ {2}\[task-api\] /);
  });
});

test('SIGTERM stops the whole stack within 10 s when one service is dead and another ignores SIGTERM', async () => {
  const stack = await npmStart(SHARED_BASE + 600, ['task-api', 'ai-jobs']);
  // A stopped process cannot act on SIGTERM; only the escalation to SIGKILL ends it.
  process.kill(-stack.ready.pids['ai-jobs']!, 'SIGSTOP');
  process.kill(-stack.ready.pids['task-api']!, 'SIGKILL');
  const signalled = Date.now();
  process.kill(stack.npm.pid!, 'SIGTERM');

  const stoppedMs = await goneWithin(stack.groups, STOP_BUDGET_MS, signalled);
  console.log(`stack gone ${stoppedMs} ms after SIGTERM (one service dead, one stopped)`);
  await stack.exit;
});
