import { fixedClock } from '@offload/testing/clock';
import { batchJobUpdated, jobUpdated, type LiveEvent } from '@offload/messages';
import {
  CONNECTION_LIFETIME_SECONDS,
  deliver,
  DeliveryError,
  handleRequest,
  newConnection,
  targetKey,
  type Target,
} from '../../src/domain/live';
import { MemoryConnections } from '../support/memory';

const NOW = new Date('2026-12-03T10:00:00.000Z');
const JOB = '00000000-0000-4000-8000-000000000001';
const BATCH = '00000000-0000-4000-8000-000000000002';

function setup() {
  const connections = new MemoryConnections();
  const sent: [string, Record<string, unknown>][] = [];
  const gone = new Set<string>();
  const states = new Map<string, LiveEvent>();
  states.set(
    targetKey({ kind: 'job', id: JOB }),
    jobUpdated(
      { job_id: JOB, owner: 'alice', status: 'processing', progress: 0.25, updated_at: NOW.toISOString() },
      't',
    ),
  );
  states.set(
    targetKey({ kind: 'batch_job', id: BATCH }),
    batchJobUpdated(
      {
        job_id: BATCH,
        owner: 'alice',
        status: 'running',
        total_items: 2,
        submitted_items: 2,
        processed_items: 1,
        succeeded_items: 1,
        failed_items: 0,
        created_at: NOW.toISOString(),
        updated_at: NOW.toISOString(),
      },
      't',
    ),
  );
  const deps = {
    connections,
    source: { current: async (target: Target) => states.get(targetKey(target)) },
    push: async (id: string, message: unknown) => {
      if (gone.has(id)) return 'gone' as const;
      sent.push([id, message as Record<string, unknown>]);
      return 'sent' as const;
    },
    clock: fixedClock(NOW.toISOString()),
  };
  return { deps, connections, sent, gone, states };
}

describe('handleRequest', () => {
  it('subscribes the owner and sends the current state at once, without the owner', async () => {
    const s = setup();
    await s.connections.put(newConnection('c1', 'alice', NOW));
    expect(await handleRequest(s.deps, 'c1', JSON.stringify({ action: 'subscribe', job_id: JOB }))).toBe(
      'subscribed',
    );
    expect(s.sent).toEqual([
      [
        'c1',
        {
          type: 'job.updated',
          job_id: JOB,
          status: 'processing',
          progress: 0.25,
          updated_at: NOW.toISOString(),
        },
      ],
    ]);
    expect(await s.connections.subscribers(targetKey({ kind: 'job', id: JOB }))).toHaveLength(1);
    await handleRequest(s.deps, 'c1', JSON.stringify({ action: 'subscribe', batch_job_id: BATCH }));
    expect(s.sent[1]![1]).toMatchObject({
      type: 'batch_job.updated',
      batch_job_id: BATCH,
      counts: { total: 2, submitted: 2, processed: 1, succeeded: 1, failed: 0 },
    });
  });

  it('answers another caller’s id or a missing one as not_found and subscribes nothing', async () => {
    const s = setup();
    await s.connections.put(newConnection('c2', 'carol', NOW));
    expect(await handleRequest(s.deps, 'c2', JSON.stringify({ action: 'subscribe', job_id: JOB }))).toBe(
      'not_found',
    );
    const missing = '00000000-0000-4000-8000-000000000009';
    await handleRequest(s.deps, 'c2', JSON.stringify({ action: 'subscribe', batch_job_id: missing }));
    expect(s.sent.map(([, m]) => m)).toEqual([
      { type: 'error', code: 'not_found', message: expect.any(String), job_id: JOB },
      { type: 'error', code: 'not_found', message: expect.any(String), batch_job_id: missing },
    ]);
    expect(s.connections.subs.size).toBe(0);
  });

  it('answers malformed frames with bad_request', async () => {
    const s = setup();
    await s.connections.put(newConnection('c1', 'alice', NOW));
    for (const body of ['nope', '{"action":"subscribe"}', '{"action":"dance","job_id":"x"}', undefined]) {
      expect(await handleRequest(s.deps, 'c1', body)).toBe('bad_request');
    }
    expect(s.sent.every(([, m]) => m.type === 'error' && m.code === 'bad_request')).toBe(true);
  });

  it('unsubscribes', async () => {
    const s = setup();
    await s.connections.put(newConnection('c1', 'alice', NOW));
    await handleRequest(s.deps, 'c1', JSON.stringify({ action: 'subscribe', job_id: JOB }));
    expect(await handleRequest(s.deps, 'c1', JSON.stringify({ action: 'unsubscribe', job_id: JOB }))).toBe(
      'unsubscribed',
    );
    expect(await s.connections.subscribers(targetKey({ kind: 'job', id: JOB }))).toEqual([]);
  });
});

describe('deliver', () => {
  const event = (status: 'processing' | 'succeeded', owner = 'alice') =>
    jobUpdated({ job_id: JOB, owner, status, progress: 1, updated_at: NOW.toISOString() }, 't');

  it('sends to the owner’s live subscriptions only and removes connections that are gone', async () => {
    const s = setup();
    const live = newConnection('c1', 'alice', NOW);
    const goneOne = newConnection('c2', 'alice', NOW);
    const expired = { ...newConnection('c3', 'alice', NOW), expires_at: NOW.getTime() / 1000 - 1 };
    const stranger = newConnection('c4', 'carol', NOW);
    for (const c of [live, goneOne, expired, stranger]) {
      await s.connections.put(c);
      await s.connections.subscribe(targetKey({ kind: 'job', id: JOB }), c);
    }
    s.gone.add('c2');
    expect(await deliver(s.deps, event('succeeded'))).toEqual({ sent: 1, gone: 1 });
    expect(s.sent).toEqual([['c1', expect.objectContaining({ type: 'job.updated', status: 'succeeded' })]]);
    expect(await s.connections.get('c2')).toBeUndefined();
    expect(live.expires_at - NOW.getTime() / 1000).toBe(CONNECTION_LIFETIME_SECONDS);
  });

  it('throws when a connection fails otherwise, after trying the others, so the event is retried', async () => {
    const s = setup();
    for (const id of ['c1', 'c2']) {
      const c = newConnection(id, 'alice', NOW);
      await s.connections.put(c);
      await s.connections.subscribe(targetKey({ kind: 'job', id: JOB }), c);
    }
    const push = s.deps.push;
    const deps = {
      ...s.deps,
      push: async (id: string, message: unknown) => {
        if (id === 'c1') throw new Error('503 from the management API');
        return push(id, message);
      },
    };
    await expect(deliver(deps, event('processing'))).rejects.toBeInstanceOf(DeliveryError);
    expect(s.sent.map(([id]) => id)).toEqual(['c2']);
  });
});
