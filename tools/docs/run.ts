import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MARKER, answerMismatches, buildScript, isRunnable, retarget, type CurlStatement } from './curls';
import { ROOT, parseDoc } from './markdown';

/**
 * Every call goes through this function: it runs the real curl with the doc's own arguments, saves
 * the answer under the statement's marker (the last call of a statement wins, as in a polling
 * loop) and its status in a log, prints the answer as curl would, and fails unless the status is
 * 2xx, so `set -e` stops the doc at its first broken curl.
 */
const PRELUDE = `set -eo pipefail
curl() {
  local id="\${${MARKER}:-0}" status rc=0
  local out="$DOC_TEST_DIR/$id.out"
  status=$(command curl "$@" -o "$out" -w '%{http_code}') || rc=$?
  echo "$id $status $rc" >> "$DOC_TEST_DIR/calls"
  cat "$out" 2>/dev/null || true
  [ "$rc" -eq 0 ] && [[ "$status" == 2* ]]
}
`;

export interface CurlCall {
  id: number;
  status: number;
  exitCode: number;
}

export interface DocRun {
  exitCode: number | null;
  output: string;
  calls: CurlCall[];
  /** Per documented curl, what its answer lacks compared with what the doc shows. */
  problems: string[];
}

export async function runDoc(
  file: string,
  script: string,
  curls: CurlStatement[],
  { timeoutMs = 240_000 } = {},
): Promise<DocRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'doc-test-'));
  try {
    const child = spawn('bash', ['-c', PRELUDE + script], {
      cwd: ROOT,
      // The pinned Node 24 first, as under npm scripts: docs use its global WebSocket.
      env: {
        ...process.env,
        DOC_TEST_DIR: dir,
        PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout also ends what the doc started (a WebSocket client).
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += `\n(stopped after ${timeoutMs} ms)\n`;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    const calls = readLines(path.join(dir, 'calls')).map((line) => {
      const [id, status, exitCode] = line.split(' ').map(Number);
      return { id: id!, status: status!, exitCode: exitCode! };
    });
    const problems = curls.flatMap((curl) => {
      const where = `${file}:${curl.line} (${curl.text.split('\n')[0]})`;
      if (!calls.some((call) => call.id === curl.id)) return [`${where}: never ran`];
      if (!curl.expect) return [];
      const answer = readLines(path.join(dir, `${curl.id}.out`)).join('\n');
      return answerMismatches(curl.expect, answer).map((problem) => `${where}: ${problem}`);
    });
    return { exitCode, output, calls, problems };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The docs that hold something to run. */
export function runnableDocs(files: string[]): string[] {
  return files.filter((file) =>
    parseDoc(readFileSync(path.join(ROOT, file), 'utf8')).blocks.some(isRunnable),
  );
}

export interface DocFileRun extends DocRun {
  curls: CurlStatement[];
  /** Calls that did not end in a 2xx. */
  failed: CurlCall[];
  ok: boolean;
}

/** One doc's shell blocks, with documented ports and stage moved to the stack under test. */
export async function runDocFile(
  file: string,
  ports: Map<number, number>,
  stage: string,
): Promise<DocFileRun> {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const { script, curls } = buildScript(parseDoc(text).blocks, text.split('\n'));
  const run = await runDoc(file, retarget(script, ports, stage), curls);
  const failed = run.calls.filter((call) => call.exitCode !== 0 || call.status < 200 || call.status > 299);
  return { ...run, curls, failed, ok: run.exitCode === 0 && !failed.length && !run.problems.length };
}
