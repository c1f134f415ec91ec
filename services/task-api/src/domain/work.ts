import type { Task } from '@offload/messages';
import type { TaskWork } from './tasks';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The reference work for a task: triage it (words, urgency from priority and due date). This is the
 * seam where a real deployment puts its long-running job; it must stay deterministic for a given
 * task and `now` so retries are safe.
 */
export function triageWork(now: () => Date): TaskWork {
  return async (task: Task) => {
    const words = task.description.split(/\s+/).filter(Boolean).length;
    const dueInDays =
      task.due_date === undefined
        ? undefined
        : Math.floor((Date.parse(task.due_date) - now().getTime()) / DAY_MS);
    const urgency =
      task.priority === 'high' || (dueInDays !== undefined && dueInDays <= 1)
        ? 'urgent'
        : task.priority === 'medium' || (dueInDays !== undefined && dueInDays <= 7)
          ? 'soon'
          : 'later';
    return { words, urgency, ...(dueInDays !== undefined && { due_in_days: dueInDays }) };
  };
}
