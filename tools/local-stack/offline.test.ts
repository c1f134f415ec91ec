import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { groupAlive, stopOffline, type OfflineService } from './offline';

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
