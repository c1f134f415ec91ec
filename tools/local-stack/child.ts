import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { ROOT } from './services';

/** The prefix of `start.ts --machine`'s ready line; the JSON that follows is a ReadyLine. */
export const READY = 'OFFLOAD_READY ';

/** The prefix of the line start.ts prints (on stderr) when a service's process exits unexpectedly. */
export const SERVICE_EXITED = 'SERVICE EXITED ';

/** What `start.ts --machine` prints on its ready line. */
export interface ReadyLine {
  urls: Record<string, string>;
  websocketUrls: Record<string, string>;
  lambdaUrls: Record<string, string>;
  endpoints: { sqs: string; sns: string; dynamodb: string };
  openaiBaseUrl: string;
  /** The jobs page, when the stack serves it. */
  jobsPageUrl?: string;
  /** Each service's serverless offline process id, which is also its process group id. */
  pids: Record<string, number>;
}

export interface StackChild {
  ready: ReadyLine;
  child: ChildProcess;
  /**
   * Resolves when the stack exits without stop() having been called (a service died: it stops
   * itself), with its SERVICE_EXITED line if it printed one.
   */
  failed: Promise<{ code: number | null; report?: string }>;
  /** SIGTERM (its handler stops serverless-offline and the emulators), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Runs `npm start`'s script as a child with `--machine` and the given flags (the integration
 * harness and the bench both do), sends its other output to `log`, and resolves on the ready line.
 */
export async function spawnLocalStack(
  args: string[],
  log: Writable,
  { timeoutMs = 300_000 } = {},
): Promise<StackChild> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'tools/local-stack/start.ts', '--machine', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr!.pipe(log, { end: false });
  let report: string | undefined;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.startsWith(SERVICE_EXITED)) report = line;
  });
  const exited = once(child, 'exit');
  let stopping = false;
  // 'close', not 'exit': by then the report line on stderr has been read.
  const failed = new Promise<{ code: number | null; report?: string }>((resolve) => {
    child.once('close', (code: number | null) => !stopping && resolve({ code, report }));
  });

  const stop = async (graceMs = 15_000) => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  try {
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs / 1000} s`)), timeoutMs);
      void exited.then(([code]) => reject(new Error(`exited with code ${code} before it was ready`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith(READY)) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice(READY.length)) as ReadyLine);
        } else {
          log.write(`${line}\n`);
        }
      });
    });
    return { ready, child, failed, stop };
  } catch (error) {
    await stop();
    throw new Error(`The local stack failed to start: ${(error as Error).message}`, { cause: error });
  }
}
