import * as z from 'zod/mini';
import { envelope } from './envelope';
import { storedFailureSchema } from './failure';
import { isoDateOrDateTime, line, text } from './text';

export const TASK_TITLE_MAX = 200;
export const TASK_DESCRIPTION_MAX = 2000;
export const TASK_BODY_MAX_BYTES = 16 * 1024;

export const taskPrioritySchema = z.pipe(
  z.pipe(
    z.string(),
    z.transform((value: string) => value.trim().toLowerCase()),
  ),
  z.enum(['low', 'medium', 'high'], { error: 'must be one of low, medium, high' }),
);

/** POST /tasks body. Unknown fields are rejected so typos do not silently drop data. */
export const createTaskBodySchema = z.strictObject({
  title: line(TASK_TITLE_MAX),
  description: text(TASK_DESCRIPTION_MAX),
  priority: taskPrioritySchema,
  due_date: z.optional(isoDateOrDateTime()),
});
export type CreateTaskBody = z.infer<typeof createTaskBodySchema>;

export const taskStatusSchema = z.enum(['queued', 'processing', 'completed', 'failed']);
export type TaskStatus = z.infer<typeof taskStatusSchema>;

/** A task as stored; GET /tasks/{id} returns it without `owner`. */
export const taskSchema = z.object({
  task_id: z.uuid(),
  /** The caller who submitted it; only they can read it. Absent on records from before owners. */
  owner: z.optional(z.string().check(z.minLength(1))),
  title: z.string(),
  description: z.string(),
  priority: z.enum(['low', 'medium', 'high']),
  due_date: z.optional(z.string()),
  status: taskStatusSchema,
  attempts: z.number().check(z.int(), z.nonnegative()),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  started_at: z.optional(z.iso.datetime()),
  completed_at: z.optional(z.iso.datetime()),
  failed_at: z.optional(z.iso.datetime()),
  /** Public code and message only; the cause chain stays in the logs. */
  error: z.optional(storedFailureSchema),
  result: z.optional(z.record(z.string(), z.unknown())),
});
export type Task = z.infer<typeof taskSchema>;

/** The queue message: only the id travels; the processor reads the task from the table. */
export const taskSubmittedV1 = envelope('task.submitted', '1', z.object({ task_id: z.uuid() }));
export type TaskSubmittedV1 = z.infer<typeof taskSubmittedV1>;

/** Every version the processor accepts. Add v2 here, never change v1 in place. */
export const taskSubmitted = taskSubmittedV1;
export type TaskSubmitted = z.infer<typeof taskSubmitted>;
