import type { Clock } from '@offload/config';
import {
  buildEnvelope,
  taskSubmitted,
  type CreateTaskBody,
  type Task,
  type TaskSubmitted,
} from '@offload/messages';
import { NotFoundError, processOnce, type Attempt, type PublicFailure } from '@offload/errors';

/** Where tasks live. Every state change is conditional so a redelivered message changes nothing. */
export interface TaskStore {
  /** Fails if the id exists. */
  create(task: Task): Promise<void>;
  get(taskId: string): Promise<Task | undefined>;
  remove(taskId: string): Promise<void>;
  /** queued|processing -> processing, counting the attempt; `undefined` if it is in neither state. */
  start(taskId: string, now: string): Promise<Task | undefined>;
  /** processing -> completed; false if it had already left `processing`. */
  complete(taskId: string, result: Record<string, unknown>, now: string): Promise<boolean>;
  /** processing -> failed with the public failure; false if it had already left `processing`. */
  fail(taskId: string, error: PublicFailure, now: string): Promise<boolean>;
}

export interface TaskQueue {
  enqueue(message: TaskSubmitted): Promise<void>;
}

/** The work a task stands for. Throwing means "retry me"; the last attempt marks the task failed. */
export type TaskWork = (task: Task) => Promise<Record<string, unknown>>;

export function newTask(body: CreateTaskBody, taskId: string, now: string, owner: string): Task {
  return {
    task_id: taskId,
    owner,
    title: body.title,
    description: body.description,
    priority: body.priority,
    ...(body.due_date !== undefined && { due_date: body.due_date }),
    status: 'queued',
    attempts: 0,
    created_at: now,
    updated_at: now,
  };
}

export function taskSubmittedMessage(task: Task, traceId?: string): TaskSubmitted {
  return buildEnvelope(
    taskSubmitted,
    task.task_id,
    { task_id: task.task_id },
    { source: 'task-api', traceId },
  );
}

/**
 * Records the task as `queued`, then enqueues it. If the enqueue fails the record is removed and
 * the error rethrown, so the caller gets a 5xx and no task is left queued without a message.
 */
export async function submitTask(
  deps: { store: TaskStore; queue: TaskQueue; clock: Clock; newId: () => string },
  owner: string,
  body: CreateTaskBody,
  traceId?: string,
): Promise<Task> {
  const task = newTask(body, deps.newId(), deps.clock.now().toISOString(), owner);
  await deps.store.create(task);
  try {
    await deps.queue.enqueue(taskSubmittedMessage(task, traceId));
  } catch (error) {
    await deps.store.remove(task.task_id);
    throw error;
  }
  return task;
}

/** The owner's task, without its owner field; another caller's task is a 404 like a missing one. */
export async function getTask(store: TaskStore, taskId: string, owner: string): Promise<Omit<Task, 'owner'>> {
  const task = await store.get(taskId);
  if (!task || task.owner !== owner) throw new NotFoundError(`Task ${taskId} not found`);
  const { owner: _owner, ...view } = task;
  return view;
}

export type ProcessOutcome = 'completed' | 'already-finished';

/**
 * Processes one task idempotently (processOnce): a task already completed or failed is left
 * alone, a task interrupted mid-work (still `processing`) is picked up again, a task not written
 * yet is retried. On the last allowed attempt a failure marks the task `failed` with its public
 * failure before the error goes on to the DLQ; the chain reaches the logs and the DLQ reason.
 */
export function processTask(
  deps: { store: TaskStore; work: TaskWork; clock: Clock },
  taskId: string,
  attempt: Attempt,
): Promise<ProcessOutcome> {
  const { store, clock } = deps;
  return processOnce<Task, ProcessOutcome>(
    {
      record: `Task ${taskId}`,
      start: () => store.start(taskId, clock.now().toISOString()),
      exists: async () => (await store.get(taskId)) !== undefined,
      alreadyDone: 'already-finished',
      work: async (task) => {
        const result = await deps.work(task);
        return (await store.complete(taskId, result, clock.now().toISOString()))
          ? 'completed'
          : 'already-finished';
      },
      fail: (_task, failure) => store.fail(taskId, failure, clock.now().toISOString()),
    },
    attempt,
  );
}
