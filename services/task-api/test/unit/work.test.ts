import type { Task } from '@offload/messages';
import { triageWork } from '../../src/domain/work';

const now = new Date('2026-11-24T12:00:00Z');
const task = (overrides: Partial<Task>): Task => ({
  task_id: '5ebe2104-3b17-46b4-8d39-710482a15918',
  title: 't',
  description: 'one two  three\nfour',
  priority: 'low',
  status: 'processing',
  attempts: 1,
  created_at: now.toISOString(),
  updated_at: now.toISOString(),
  ...overrides,
});

describe('triageWork', () => {
  const work = triageWork(() => now);

  it('counts words and rates a low-priority task without a due date as later', async () => {
    expect(await work(task({}))).toEqual({ words: 4, urgency: 'later' });
  });

  it('rates high priority, or a due date within a day, as urgent', async () => {
    expect((await work(task({ priority: 'high' }))).urgency).toBe('urgent');
    expect(await work(task({ due_date: '2026-11-25T11:00:00Z' }))).toMatchObject({
      urgency: 'urgent',
      due_in_days: 0,
    });
  });

  it('rates medium priority, or a due date within a week, as soon', async () => {
    expect((await work(task({ priority: 'medium' }))).urgency).toBe('soon');
    expect(await work(task({ due_date: '2026-11-29' }))).toMatchObject({ urgency: 'soon', due_in_days: 4 });
  });

  it('gives the same answer for the same task and clock, so a retry is safe', async () => {
    const t = task({ due_date: '2026-12-24' });
    expect(await work(t)).toEqual(await work(t));
  });
});
