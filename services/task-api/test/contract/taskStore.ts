import { randomUUID } from 'node:crypto';
import type { Task } from '@offload/messages';
import { CONDITION_FAILED } from '@offload/testing/conditionFailed';
import type { TaskStore } from '../../src/domain/tasks';

const T0 = '2026-11-24T12:00:00.000Z';
const T1 = '2026-11-24T12:00:01.000Z';
const T2 = '2026-11-24T12:00:02.000Z';
const FAILURE = { code: 'internal_error', message: 'Something went wrong' };

const newTask = (): Task => ({
  task_id: randomUUID(),
  owner: 'alice',
  title: 'Write report',
  description: 'Quarterly numbers',
  priority: 'high',
  status: 'queued',
  attempts: 0,
  created_at: T0,
  updated_at: T0,
});

/**
 * What every TaskStore does, the in-memory fake and the DynamoDB adapter alike: `makeStore`
 * answers a store holding no tasks.
 */
export function describeTaskStoreContract(name: string, makeStore: () => Promise<TaskStore>) {
  describe(`TaskStore contract: ${name}`, () => {
    let store: TaskStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('creates a task once: a second create of the id is refused as a lost condition', async () => {
      const task = newTask();
      await store.create(task);
      await expect(store.create({ ...task, title: 'Other' })).rejects.toMatchObject(CONDITION_FAILED);
      expect(await store.get(task.task_id)).toEqual(task);
    });

    it('answers undefined for an unknown id, and nothing after a remove', async () => {
      const task = newTask();
      expect(await store.get(task.task_id)).toBeUndefined();
      await store.create(task);
      await store.remove(task.task_id);
      expect(await store.get(task.task_id)).toBeUndefined();
    });

    it('hands out copies: changing what create took or get answered changes nothing stored', async () => {
      const task = newTask();
      await store.create(task);
      task.title = 'Changed after create';
      const read = (await store.get(task.task_id))!;
      read.status = 'completed';
      expect(await store.get(task.task_id)).toMatchObject({ title: 'Write report', status: 'queued' });
    });

    it('starts from queued and again from processing, counting attempts, keeping the first start', async () => {
      const task = newTask();
      await store.create(task);
      expect(await store.start(task.task_id, T1)).toEqual({
        ...task,
        status: 'processing',
        attempts: 1,
        started_at: T1,
        updated_at: T1,
      });
      expect(await store.start(task.task_id, T2)).toMatchObject({
        status: 'processing',
        attempts: 2,
        started_at: T1,
        updated_at: T2,
      });
    });

    it('does not start an unknown task or one that has finished', async () => {
      expect(await store.start(randomUUID(), T1)).toBeUndefined();
      const task = newTask();
      await store.create(task);
      await store.start(task.task_id, T1);
      await store.complete(task.task_id, { done: true }, T2);
      expect(await store.start(task.task_id, T2)).toBeUndefined();
      expect(await store.get(task.task_id)).toMatchObject({ status: 'completed', attempts: 1 });
    });

    it('completes only from processing, once', async () => {
      const task = newTask();
      await store.create(task);
      expect(await store.complete(task.task_id, { done: true }, T1)).toBe(false);
      await store.start(task.task_id, T1);
      expect(await store.complete(task.task_id, { done: true }, T2)).toBe(true);
      expect(await store.complete(task.task_id, { done: false }, T2)).toBe(false);
      expect(await store.fail(task.task_id, FAILURE, T2)).toBe(false);
      expect(await store.get(task.task_id)).toEqual({
        ...task,
        status: 'completed',
        attempts: 1,
        started_at: T1,
        completed_at: T2,
        updated_at: T2,
        result: { done: true },
      });
    });

    it('fails only from processing, once, and never for an unknown id', async () => {
      expect(await store.fail(randomUUID(), FAILURE, T1)).toBe(false);
      const task = newTask();
      await store.create(task);
      expect(await store.fail(task.task_id, FAILURE, T1)).toBe(false);
      await store.start(task.task_id, T1);
      expect(await store.fail(task.task_id, FAILURE, T2)).toBe(true);
      expect(await store.complete(task.task_id, { done: true }, T2)).toBe(false);
      expect(await store.get(task.task_id)).toEqual({
        ...task,
        status: 'failed',
        attempts: 1,
        started_at: T1,
        failed_at: T2,
        updated_at: T2,
        error: FAILURE,
      });
    });
  });
}
