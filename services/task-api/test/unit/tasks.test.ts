import { INTERNAL_FAILURE, PublicFailureError } from '@offload/errors';
import { NotFoundError, NotFoundYetError } from '@offload/errors';
import { taskSubmitted, type CreateTaskBody } from '@offload/messages';
import { getTask, processTask, submitTask, type TaskWork } from '../../src/domain/tasks';
import { steppingClock } from '@offload/testing/clock';
import { MemoryTaskQueue, MemoryTaskStore } from '../support/memory';

const body: CreateTaskBody = { title: 'Write report', description: 'Quarterly numbers', priority: 'high' };
const ID = '5ebe2104-3b17-46b4-8d39-710482a15918';

function setup(work: TaskWork = async () => ({ done: true })) {
  const store = new MemoryTaskStore();
  const queue = new MemoryTaskQueue();
  const clock = steppingClock();
  return { store, queue, clock, work, submitDeps: { store, queue, clock, newId: () => ID } };
}

describe('submitTask', () => {
  it('records the task as queued, then enqueues a v1 task.submitted message for it', async () => {
    const { store, queue, submitDeps } = setup();
    const task = await submitTask(submitDeps, 'alice', body, 'trace-1');
    expect(task).toMatchObject({
      task_id: ID,
      owner: 'alice',
      status: 'queued',
      attempts: 0,
      title: 'Write report',
    });
    expect(await store.get(ID)).toEqual(task);
    expect(queue.sent).toHaveLength(1);
    expect(taskSubmitted.parse(queue.sent[0])).toMatchObject({
      version: '1',
      data: { task_id: ID },
      metadata: { source: 'task-api', traceId: 'trace-1' },
    });
  });

  it('removes the record and rethrows when the enqueue fails, leaving no task without a message', async () => {
    const { store, queue, submitDeps } = setup();
    queue.failNext = true;
    await expect(submitTask(submitDeps, 'alice', body)).rejects.toThrow('queue unavailable');
    expect(store.tasks.size).toBe(0);
  });
});

describe('getTask', () => {
  it('returns the owner a stored task without its owner field, and throws NotFoundError for an unknown id', async () => {
    const { store, submitDeps } = setup();
    await submitTask(submitDeps, 'alice', body);
    const task = await getTask(store, ID, 'alice');
    expect(task.task_id).toBe(ID);
    expect(task).not.toHaveProperty('owner');
    await expect(getTask(store, 'nope', 'alice')).rejects.toThrow(NotFoundError);
  });

  it("answers another caller's task exactly like a missing one", async () => {
    const { store, submitDeps } = setup();
    await submitTask(submitDeps, 'alice', body);
    await expect(getTask(store, ID, 'bob')).rejects.toThrow(new NotFoundError(`Task ${ID} not found`));
    await expect(getTask(store, ID, 'bob')).rejects.toThrow(NotFoundError);
  });

  it('answers a record without an owner (from before owners) as missing to everyone', async () => {
    const { store, submitDeps } = setup();
    await submitTask(submitDeps, 'alice', body);
    const { owner: _owner, ...legacy } = (await store.get(ID))!;
    store.tasks.set(ID, legacy);
    await expect(getTask(store, ID, 'alice')).rejects.toThrow(NotFoundError);
  });
});

describe('processTask', () => {
  it('moves a queued task to completed with the work result and one attempt', async () => {
    const { store, submitDeps, work, clock } = setup();
    await submitTask(submitDeps, 'alice', body);
    expect(await processTask({ store, work, clock }, ID, { isLastAttempt: false })).toBe('completed');
    const task = await store.get(ID);
    expect(task).toMatchObject({ status: 'completed', result: { done: true }, attempts: 1 });
    expect(Date.parse(task!.completed_at!)).toBeGreaterThan(Date.parse(task!.started_at!));
  });

  it('changes nothing when the same task is processed again', async () => {
    const { store, submitDeps, clock } = setup();
    let runs = 0;
    const work: TaskWork = async () => ({ run: ++runs });
    await submitTask(submitDeps, 'alice', body);
    await processTask({ store, work, clock }, ID, { isLastAttempt: false });
    const first = await store.get(ID);
    expect(await processTask({ store, work, clock }, ID, { isLastAttempt: false })).toBe('already-finished');
    expect(await store.get(ID)).toEqual(first);
    expect(runs).toBe(1);
  });

  it('throws NotFoundYetError (retryable) when the task has no record', async () => {
    const { store, work, clock } = setup();
    await expect(processTask({ store, work, clock }, ID, { isLastAttempt: false })).rejects.toThrow(
      NotFoundYetError,
    );
  });

  it('resumes a task left in processing by an interrupted attempt', async () => {
    const { store, submitDeps, work, clock } = setup();
    await submitTask(submitDeps, 'alice', body);
    await store.start(ID, clock.now().toISOString());
    expect(await processTask({ store, work, clock }, ID, { isLastAttempt: false })).toBe('completed');
    expect((await store.get(ID))?.attempts).toBe(2);
  });

  it('keeps a failing task processing for a retry, and marks it failed only on the last attempt', async () => {
    const { store, submitDeps, clock } = setup();
    const work: TaskWork = async () => {
      throw new Error('printer on fire');
    };
    await submitTask(submitDeps, 'alice', body);
    await expect(processTask({ store, work, clock }, ID, { isLastAttempt: false })).rejects.toThrow(
      'printer on fire',
    );
    expect((await store.get(ID))?.status).toBe('processing');
    await expect(processTask({ store, work, clock }, ID, { isLastAttempt: true })).rejects.toThrow(
      'printer on fire',
    );
    // The record holds the public failure only; the internal text stays in the logs.
    expect(await store.get(ID)).toMatchObject({
      status: 'failed',
      error: INTERNAL_FAILURE,
      attempts: 2,
    });
    expect(JSON.stringify(await store.get(ID))).not.toMatch(/printer/);
  });

  it('records the code and message of a public failure in the chain', async () => {
    const { store, submitDeps, clock } = setup();
    const work: TaskWork = async () => {
      throw new PublicFailureError('due_date_passed', 'The due date has passed', { cause: new Error('x') });
    };
    await submitTask(submitDeps, 'alice', body);
    await expect(processTask({ store, work, clock }, ID, { isLastAttempt: true })).rejects.toThrow();
    expect((await store.get(ID))?.error).toEqual({
      code: 'due_date_passed',
      message: 'The due date has passed',
    });
  });
});
