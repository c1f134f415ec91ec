import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand, ScanCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '@offload/aws/dynamodb';
import { queueUrl, sqs } from '@offload/aws/sqs';
import type { Task } from '@offload/messages';
import { drainQueue, queueDepth, waitFor, type ReceivedMessage } from '@offload/testing';

// Names follow services/task-api/serverless.yml at the `test` stage the harness starts.
const TABLE = 'offload-task-api-test-tasks';
const QUEUE = 'offload-task-api-test-tasks.fifo';
const DLQ = 'offload-task-api-test-tasks-dlq.fifo';
const GROUP = 'tasks';

const api = () => {
  const url = process.env.TASK_API_URL;
  if (!url) throw new Error('TASK_API_URL is not set: the integration globalSetup did not run');
  return url;
};

// A development key (README): the local stages know it; the caller is alice.
const KEY = { 'x-api-key': 'dev-key-alice' };

async function post(body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await fetch(`${api()}/tasks`, { method: 'POST', headers: { ...KEY, ...headers }, body });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function getTask(id: string) {
  const res = await fetch(`${api()}/tasks/${id}`, { headers: KEY });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function readTask(id: string): Promise<Task | undefined> {
  const out = await dynamo.send(
    new GetCommand({ TableName: TABLE, Key: { task_id: id }, ConsistentRead: true }),
  );
  return out.Item as Task | undefined;
}

const waitForStatus = (id: string, status: Task['status']) =>
  waitFor(`task ${id} to be ${status}`, async () => {
    const task = await readTask(id);
    return task?.status === status ? task : undefined;
  });

async function tableCount(): Promise<number> {
  const out = await dynamo.send(new ScanCommand({ TableName: TABLE, Select: 'COUNT' }));
  return out.Count ?? 0;
}

const deadLetters: ReceivedMessage[] = [];

/** Everything the DLQ has received so far in this file (draining keeps FIFO groups moving). */
async function drainDlq(): Promise<ReceivedMessage[]> {
  deadLetters.push(...(await drainQueue(DLQ)));
  return deadLetters;
}

const deadLetterFor = (what: string, fragment: string) =>
  waitFor(what, async () => (await drainDlq()).find((m) => m.body.includes(fragment)));

function queuedTask(title: string): Task {
  const now = new Date().toISOString();
  return {
    task_id: randomUUID(),
    title,
    description: `integration ${title}`,
    priority: 'low',
    status: 'queued',
    attempts: 0,
    created_at: now,
    updated_at: now,
  };
}

const envelope = (taskId: string) =>
  JSON.stringify({
    version: '1',
    type: 'task.submitted',
    id: taskId,
    data: { task_id: taskId },
    metadata: { source: 'integration-test' },
  });

async function enqueue(body: string) {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: await queueUrl(QUEUE),
      MessageBody: body,
      MessageGroupId: GROUP,
      MessageDeduplicationId: randomUUID(),
    }),
  );
}

async function settled() {
  await waitFor('the task queue to drain', async () => (await queueDepth(QUEUE)) === 0);
}

describe('task-api over HTTP with the local emulators', () => {
  afterEach(settled);

  it('accepts a valid task with 202 and a Location, then processes it from queued to completed', async () => {
    const res = await post(
      JSON.stringify({ title: '  Write report\u0007 ', description: 'Quarterly numbers', priority: 'HIGH' }),
    );
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('queued');
    const id = res.json.task_id as string;
    expect(res.headers.get('location')).toBe(`/tasks/${id}`);

    const done = await waitForStatus(id, 'completed');
    expect(done).toMatchObject({ title: 'Write report', priority: 'high', attempts: 1 });
    expect(Date.parse(done.completed_at!)).toBeGreaterThanOrEqual(Date.parse(done.created_at));

    const read = await getTask(id);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ task_id: id, status: 'completed', result: { urgency: 'urgent' } });
    expect(read.headers.get('retry-after')).toBeNull();
  });

  it('answers Retry-After on a GET of a task that is still open', async () => {
    const res = await post(JSON.stringify({ title: 'open one', description: 'd', priority: 'low' }));
    const done = await waitForStatus(res.json.task_id as string, 'completed');
    // A copy held in `processing`, so the GET sees an open task however fast the worker is.
    const open = { ...done, task_id: randomUUID(), status: 'processing' };
    delete (open as Partial<Task>).completed_at;
    delete (open as Partial<Task>).result;
    await dynamo.send(new PutCommand({ TableName: TABLE, Item: open }));
    const read = await getTask(open.task_id);
    expect(read.json.status).toBe('processing');
    expect(read.headers.get('retry-after')).toBe('2');
  });

  it('rejects 20 invalid bodies with 400 naming the field, storing and enqueuing nothing', async () => {
    const valid = { title: 't', description: 'd', priority: 'low' };
    const cases: [unknown, string][] = [
      [{}, 'title'],
      [{ ...valid, title: undefined }, 'title'],
      [{ ...valid, title: '' }, 'title'],
      [{ ...valid, title: '   ' }, 'title'],
      [{ ...valid, title: '\u0000\u0001' }, 'title'],
      [{ ...valid, title: 'x'.repeat(201) }, 'title'],
      [{ ...valid, title: 42 }, 'title'],
      [{ ...valid, description: undefined }, 'description'],
      [{ ...valid, description: '' }, 'description'],
      [{ ...valid, description: 'x'.repeat(2001) }, 'description'],
      [{ ...valid, description: ['a'] }, 'description'],
      [{ ...valid, priority: undefined }, 'priority'],
      [{ ...valid, priority: 'urgent' }, 'priority'],
      [{ ...valid, priority: 3 }, 'priority'],
      [{ ...valid, due_date: 'tomorrow' }, 'due_date'],
      [{ ...valid, due_date: '2026-13-45' }, 'due_date'],
      [{ ...valid, due_date: 20261201 }, 'due_date'],
      [{ ...valid, owner: 'eve' }, 'owner'],
      [[valid], '(body)'],
      ['not an object', '(body)'],
    ];
    const before = await tableCount();

    for (const [body, field] of cases) {
      const res = await post(JSON.stringify(body));
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      const details = (res.json.error as { details: { field: string }[] }).details;
      expect(details.map((d) => d.field)).toContain(field);
    }

    expect(await tableCount()).toBe(before);
    expect(await queueDepth(QUEUE)).toBe(0);
  });

  it('answers 400 for malformed JSON, 415 for a non-JSON body and 413 over 16 KB', async () => {
    expect((await post('{"title":')).status).toBe(400);
    expect((await post('title=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(415);
    const big = JSON.stringify({ title: 't', description: 'x'.repeat(17 * 1024), priority: 'low' });
    expect((await post(big)).status).toBe(413);
    expect(await queueDepth(QUEUE)).toBe(0);
  });

  it('answers 404 for an unknown task id and 400 for a malformed one', async () => {
    expect((await getTask(randomUUID())).status).toBe(404);
    const malformed = await getTask('not-a-uuid');
    expect(malformed.status).toBe(400);
  });

  // Also proves the local SQS trigger honours batchItemFailures: had it deleted the reported
  // record, the 4th task would never complete.
  it('processes 10 tasks in order 1..10 when the 4th fails once, retrying the 4th', async () => {
    const tasks = Array.from({ length: 10 }, (_, i) => queuedTask(`ordered ${i + 1}`));
    // The 4th task's record is written only after its first delivery has failed (NotFoundYetError),
    // so its completion proves a redelivery, and the queue's FIFO group must hold 5..10 behind it.
    for (const [i, task] of tasks.entries()) {
      if (i !== 3) await dynamo.send(new PutCommand({ TableName: TABLE, Item: task }));
    }
    for (const task of tasks) await enqueue(envelope(task.task_id));

    await waitForStatus(tasks[2]!.task_id, 'completed');
    await waitFor('the 4th message to be in flight', async () => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: await queueUrl(QUEUE),
          AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible) >= 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // well inside the 3 s visibility timeout
    expect((await readTask(tasks[4]!.task_id))?.status).toBe('queued');
    await dynamo.send(new PutCommand({ TableName: TABLE, Item: tasks[3] }));

    const done: Task[] = [];
    for (const task of tasks) done.push(await waitForStatus(task.task_id, 'completed'));
    for (let i = 1; i < done.length; i++) {
      expect(Date.parse(done[i]!.started_at!)).toBeGreaterThanOrEqual(Date.parse(done[i - 1]!.completed_at!));
    }
    expect(done.map((t) => t.attempts)).toEqual(Array(10).fill(1));
    const ids = tasks.map((t) => t.task_id);
    expect((await drainDlq()).filter((m) => ids.some((id) => m.body.includes(id)))).toHaveLength(0);
  });

  it('moves a task that always fails to the DLQ after 5 receives, with its reason, and processes the rest', async () => {
    const before = queuedTask('before poison');
    const after = queuedTask('after poison');
    const missing = randomUUID(); // never recorded: every delivery fails
    for (const task of [before, after]) await dynamo.send(new PutCommand({ TableName: TABLE, Item: task }));
    await enqueue(envelope(before.task_id));
    await enqueue(envelope(missing));
    await enqueue(envelope(after.task_id));

    const dead = await deadLetterFor('the failing message in the DLQ', missing);
    expect(dead.attributes).toMatchObject({ failure_kind: 'exhausted', receive_count: '5' });
    expect(dead.attributes.failure_reason).toMatch(/NotFoundYetError/);

    await waitForStatus(before.task_id, 'completed');
    const last = await waitForStatus(after.task_id, 'completed');
    expect(last.attempts).toBe(1);
  });

  it('sends a malformed message to the DLQ after one receive as poison', async () => {
    await enqueue('{"version":"9","type":"task.submitted"}');
    const dead = await deadLetterFor('the poison message in the DLQ', '"version":"9"');
    expect(dead.attributes).toMatchObject({ failure_kind: 'poison', receive_count: '1' });
    expect(dead.attributes.failure_reason).toMatch(/PoisonMessageError/);
  });

  it('changes nothing when the same task is delivered twice', async () => {
    const res = await post(JSON.stringify({ title: 'Once', description: 'only once', priority: 'medium' }));
    const id = res.json.task_id as string;
    const first = await waitForStatus(id, 'completed');

    await enqueue(envelope(id));
    await settled();
    expect(await readTask(id)).toEqual(first);
  });
});
