import { PoisonMessageError } from '@offload/errors';
import { parseMessage, taskSubmitted } from './index';

const id = '5ebe2104-3b17-46b4-8d39-710482a15918';
const message = {
  version: '1',
  type: 'task.submitted',
  id,
  data: { task_id: id },
  metadata: { source: 'task-api' },
};

describe('parseMessage', () => {
  it('returns a message of a known version', () => {
    expect(parseMessage(JSON.stringify(message), taskSubmitted)).toEqual(message);
  });

  it.each([
    ['a body that is not JSON', '{"version":', /not JSON/],
    ['an unknown version', JSON.stringify({ ...message, version: '2' }), /version/],
    ['another message type', JSON.stringify({ ...message, type: 'job.submitted' }), /type/],
    ['a message without data', JSON.stringify({ ...message, data: undefined }), /data is required/],
    ['a task id that is not a UUID', JSON.stringify({ ...message, data: { task_id: 'x' } }), /data\.task_id/],
  ])('treats %s as poison, naming the problem', (_case, body, reason) => {
    expect(() => parseMessage(body, taskSubmitted)).toThrow(PoisonMessageError);
    expect(() => parseMessage(body, taskSubmitted)).toThrow(reason);
  });
});
