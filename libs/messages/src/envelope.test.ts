import { buildEnvelope } from './envelope';
import { jobResult, jobResultV2 } from './job';
import { taskSubmitted } from './task';

describe('buildEnvelope', () => {
  const taskId = '00000000-0000-4000-8000-000000000001';

  it("takes version and type from the schema, so the message parses as that schema's", () => {
    const message = buildEnvelope(taskSubmitted, taskId, { task_id: taskId }, { source: 'task-api' });
    expect(message).toEqual({
      version: '1',
      type: 'task.submitted',
      id: taskId,
      data: { task_id: taskId },
      metadata: { source: 'task-api' },
    });
    expect(taskSubmitted.parse(message)).toEqual(message);
  });

  it('keeps a trace id and an attempt when given, and leaves them out when absent', () => {
    const data = {
      job_id: taskId,
      status: 'succeeded' as const,
      result: 1,
      finished_at: '2026-11-24T12:00:00Z',
    };
    const traced = buildEnvelope(jobResultV2, taskId, data, { source: 'p', attempt: 2, traceId: 't-1' });
    expect(traced.version).toBe('2');
    expect(traced.metadata).toEqual({ source: 'p', attempt: 2, traceId: 't-1' });
    expect(jobResult.parse(traced)).toEqual(traced);
    const bare = buildEnvelope(jobResultV2, taskId, data, { source: 'p', traceId: undefined });
    expect(Object.keys(bare.metadata)).toEqual(['source']);
  });
});
