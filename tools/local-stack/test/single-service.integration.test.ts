import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@offload/testing';
import { isListening } from '../offline';
import { ROOT, SERVERLESS_BIN } from '../services';

// The path a Serverless user types, as the README documents it: resources provisioned on endpoints
// that are already running (here the harness's emulators), then `serverless offline` in one
// service's folder with nothing but the documented environment.
const PORT = Number(process.env.TEST_HTTP_PORT ?? 13000) + 900;
const run = promisify(execFile);

// AWS_ENDPOINT_URL_SQS/_SNS/_DYNAMODB, AWS_REGION and the keys are in this environment (globalSetup).
let provisioned: string;
beforeAll(async () => {
  ({ stdout: provisioned } = await run(
    'npm',
    ['run', '-s', 'provision', '--', '--stage', 'local', '--service', 'task-api'],
    { cwd: ROOT },
  ));
}, 120_000);

test('one service runs by hand with `serverless offline --stage local` against provisioned endpoints', async () => {
  expect(provisioned).toContain('offload-task-api-local-tasks.fifo');

  const offline = spawn(
    process.execPath,
    [
      SERVERLESS_BIN,
      'offline',
      '--stage',
      'local',
      '--httpPort',
      String(PORT),
      '--lambdaPort',
      String(PORT + 1),
    ],
    { cwd: path.join(ROOT, 'services', 'task-api'), env: process.env, detached: true, stdio: 'ignore' },
  );
  try {
    await waitFor('serverless offline to listen', () => isListening(PORT), {
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    const created = await fetch(`http://127.0.0.1:${PORT}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'dev-key-alice' },
      body: JSON.stringify({
        title: 'By hand',
        description: 'serverless offline in one folder',
        priority: 'low',
      }),
    });
    const body = (await created.json()) as { task_id: string };
    expect({ status: created.status, body }).toEqual({
      status: 202,
      body: expect.objectContaining({ status: 'queued' }),
    });
    const id = body.task_id;
    const done = await waitFor(`task ${id} completed by the hand-started processor`, async () => {
      const res = await fetch(`http://127.0.0.1:${PORT}/tasks/${id}`, {
        headers: { 'x-api-key': 'dev-key-alice' },
      });
      const task = (await res.json()) as { status: string };
      return task.status === 'completed' ? task : undefined;
    });
    expect(done).toMatchObject({ task_id: id, status: 'completed' });
  } finally {
    process.kill(-offline.pid!, 'SIGKILL');
  }
});

test('`serverless invoke local` runs an ES module handler with its sample event, as docs/local-stacks.md shows', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      SERVERLESS_BIN,
      'invoke',
      'local',
      '--stage',
      'local',
      '-f',
      'createTask',
      '-p',
      'events/createTask.json',
    ],
    { cwd: path.join(ROOT, 'services', 'task-api'), env: process.env, timeout: 180_000 },
  );
  // The handler's answer, printed as JSON after its own log lines.
  const answer = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as { statusCode: number; body: string };
  expect({ statusCode: answer.statusCode, body: JSON.parse(answer.body) }).toEqual({
    statusCode: 202,
    body: { task_id: expect.any(String), status: 'queued' },
  });
}, 240_000);
