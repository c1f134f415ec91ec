import { jobUpdated, liveEvent } from '@offload/messages';
import { eventPublisher } from './events';

const event = jobUpdated(
  {
    job_id: '00000000-0000-4000-8000-000000000001',
    owner: 'alice',
    status: 'processing',
    progress: 0.5,
    updated_at: '2026-11-24T12:00:00.000Z',
  },
  'test',
);

describe('eventPublisher', () => {
  it('publishes a valid event with its type as an attribute', async () => {
    const sent: unknown[][] = [];
    await eventPublisher('arn:topic', async (...args) => void sent.push(args)).publish(event);
    expect(sent).toEqual([['arn:topic', event, { type: 'job.updated' }]]);
    expect(liveEvent.parse(sent[0]![1])).toEqual(event);
  });

  it('never throws when publishing fails', async () => {
    const failing = eventPublisher('arn:topic', async () => {
      throw new Error('topic unavailable');
    });
    await expect(failing.publish(event)).resolves.toBeUndefined();
  });
});
