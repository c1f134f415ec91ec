import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import {
  groupAlive,
  localCorsOrigins,
  PAGE_PORT_OFFSET,
  removeCommonJsBundles,
  stopOffline,
  type OfflineService,
} from './offline';

/** A stand-in for a service's serverless offline: `script` run by node in its own process group. */
function groupOf(script: string): OfflineService {
  const child = spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    name: 'stand-in',
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    lastLines: [],
  }));
  return { name: 'stand-in', url: '', websocketUrl: '', lambdaUrl: '', process: child, exited };
}

const started: OfflineService[] = [];
afterEach(() => {
  for (const service of started.splice(0)) {
    try {
      process.kill(-service.process.pid!, 'SIGKILL');
    } catch {
      // Gone, as the test expects.
    }
  }
});

const timed = async (work: Promise<void>) => {
  const start = Date.now();
  await work;
  return Date.now() - start;
};

// A service killed by a signal has no exit code, and had sent its exit event before the stop
// began; the stop used to wait for that event and never returned, so Ctrl-C no longer worked.
test('stopOffline returns for a service whose process already died, and ends what it left running', async () => {
  const service = groupOf(
    "require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100)",
  );
  started.push(service);
  expect((await service.exited).signal).toBe('SIGKILL');
  expect(groupAlive(service.process.pid!)).toBe(true);

  expect(await timed(stopOffline(service, 2000))).toBeLessThan(1500);
  expect(groupAlive(service.process.pid!)).toBe(false);
});

test('stopOffline kills a service that ignores SIGTERM once the grace period is over', async () => {
  const service = groupOf("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)");
  started.push(service);
  // Give it time to install its handler, or the SIGTERM would end it at once.
  await new Promise((resolve) => setTimeout(resolve, 300));

  const elapsed = await timed(stopOffline(service, 500));
  expect(elapsed).toBeGreaterThanOrEqual(500);
  expect(elapsed).toBeLessThan(2500);
  expect(groupAlive(service.process.pid!)).toBe(false);
  expect((await service.exited).signal).toBe('SIGKILL');
});

describe('localCorsOrigins', () => {
  it("allows the local page's origin, HTTP base + 90, by both loopback names", () => {
    expect(PAGE_PORT_OFFSET).toBe(90);
    expect(localCorsOrigins(3000)).toBe('http://localhost:3090,http://127.0.0.1:3090');
    expect(localCorsOrigins(14000).split(',')).toEqual(['http://localhost:14090', 'http://127.0.0.1:14090']);
  });
});

describe('removeCommonJsBundles', () => {
  it('deletes the CommonJS bundles and maps a stack built before the ES module switch left, and keeps the .mjs build', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'offload-work-'));
    try {
      const handlers = path.join(folder, '.build', 'src', 'handlers');
      mkdirSync(path.join(handlers, 'createTask.chunks'), { recursive: true });
      mkdirSync(path.join(folder, '.build', 'node_modules', 'kept'), { recursive: true });
      const files = {
        'createTask.js': 'stale',
        'createTask.js.map': 'stale',
        'getTask.cjs': 'stale',
        'createTask.mjs': 'current',
        'createTask.chunks/ssm-ABC.mjs': 'current',
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(handlers, name), text);
      writeFileSync(path.join(folder, '.build', 'node_modules', 'kept', 'index.js'), 'a package');

      const removed = removeCommonJsBundles(folder).map((file) => path.relative(handlers, file));

      expect(removed.sort()).toEqual(['createTask.js', 'createTask.js.map', 'getTask.cjs']);
      expect(readdirSync(handlers).sort()).toEqual(['createTask.chunks', 'createTask.mjs']);
      expect(readdirSync(path.join(handlers, 'createTask.chunks'))).toEqual(['ssm-ABC.mjs']);
      expect(readdirSync(path.join(folder, '.build', 'node_modules', 'kept'))).toEqual(['index.js']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('does nothing for a folder that does not exist yet (a first start)', () => {
    expect(removeCommonJsBundles(path.join(tmpdir(), `offload-none-${process.pid}`))).toEqual([]);
  });
});
