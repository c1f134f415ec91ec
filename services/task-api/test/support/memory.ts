import type { PublicFailure } from '@offload/errors';
import type { Task, TaskSubmitted } from '@offload/messages';
import { conditionFailed } from '@offload/testing/conditionFailed';
import type { TaskQueue, TaskStore } from '../../src/domain/tasks';

/**
 * In-memory TaskStore for unit tests. It keeps the DynamoDB adapter's conditions: `start` only
 * from queued/processing, `complete` and `fail` only from processing.
 */
export class MemoryTaskStore implements TaskStore {
  readonly tasks = new Map<string, Task>();

  async create(task: Task) {
    if (this.tasks.has(task.task_id)) throw conditionFailed();
    this.tasks.set(task.task_id, structuredClone(task));
  }

  async get(taskId: string) {
    const task = this.tasks.get(taskId);
    return task && structuredClone(task);
  }

  async remove(taskId: string) {
    this.tasks.delete(taskId);
  }

  async start(taskId: string, now: string) {
    const task = this.tasks.get(taskId);
    if (!task || (task.status !== 'queued' && task.status !== 'processing')) return undefined;
    Object.assign(task, { status: 'processing', updated_at: now, attempts: task.attempts + 1 });
    task.started_at ??= now;
    return structuredClone(task);
  }

  async complete(taskId: string, result: Record<string, unknown>, now: string) {
    return this.finish(taskId, { status: 'completed', result, completed_at: now, updated_at: now });
  }

  async fail(taskId: string, error: PublicFailure, now: string) {
    return this.finish(taskId, { status: 'failed', error, failed_at: now, updated_at: now });
  }

  private finish(taskId: string, changes: Partial<Task>) {
    const task = this.tasks.get(taskId);
    if (task?.status !== 'processing') return false;
    Object.assign(task, changes);
    return true;
  }
}

export class MemoryTaskQueue implements TaskQueue {
  readonly sent: TaskSubmitted[] = [];
  failNext = false;

  async enqueue(message: TaskSubmitted) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue unavailable');
    }
    this.sent.push(message);
  }
}
