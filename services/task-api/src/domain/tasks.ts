import type { Clock } from '@offload/config';
import {
  buildEnvelope,
  taskSubmitted,
  type CreateTaskBody,
  type Task,
  type TaskSubmitted,
} from '@offload/messages';
import { NotFoundError, OffloadError, publicFailureOf, type PublicFailure } from '@offload/errors';

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

/** The message came before (or without) its task record: retry, since the write may still land. */
export class TaskNotFoundError extends OffloadError {}

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
 * Processes one task idempotently: a task already completed or failed is left alone, a task
 * interrupted mid-work (still `processing`) is picked up again. On the last allowed attempt a
 * work failure marks the task `failed` before the error goes on to the DLQ. The task records only
 * the public failure (publicFailureOf); the chain reaches the logs and the DLQ reason.
 */
export async function processTask(
  deps: { store: TaskStore; work: TaskWork; clock: Clock },
  taskId: string,
  attempt: { isLast: boolean },
): Promise<ProcessOutcome> {
  const task = await deps.store.start(taskId, deps.clock.now().toISOString());
  if (!task) {
    const existing = await deps.store.get(taskId);
    if (!existing) throw new TaskNotFoundError(`Task ${taskId} has no record`);
    return 'already-finished';
  }
  let result: Record<string, unknown>;
  try {
    result = await deps.work(task);
  } catch (error) {
    if (attempt.isLast) await deps.store.fail(taskId, publicFailureOf(error), deps.clock.now().toISOString());
    throw error;
  }
  const completed = await deps.store.complete(taskId, result, deps.clock.now().toISOString());
  return completed ? 'completed' : 'already-finished';
}
