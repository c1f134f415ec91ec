import type { Answer } from './api';
import { LiveUpdates } from './live';
import type { JobView, LiveEvent, Transport } from './model';

/** A stand-in for the browser's WebSocket: records what is sent, and the test plays the server. */
class FakeSocket extends EventTarget {
  static instances: FakeSocket[] = [];
  sent: unknown[] = [];
  constructor(readonly url: string) {
    super();
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.dispatchEvent(new Event('close'));
  }
  serverOpens() {
    this.dispatchEvent(new Event('open'));
  }
  serverSends(message: object) {
    const event = new Event('message') as Event & { data: string };
    event.data = JSON.stringify(message);
    this.dispatchEvent(event);
  }
  serverRefuses() {
    this.dispatchEvent(new Event('error'));
    this.dispatchEvent(new Event('close'));
  }
}

const view = (status: JobView['status'], progress: number): JobView => ({
  job_id: 'j1',
  type: 'completion',
  status,
  progress,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
});

function setup(answers: Answer<JobView>[], websocketUrl: string | null = 'ws://api.example/live') {
  FakeSocket.instances = [];
  const events: LiveEvent[] = [];
  const jobs: JobView[] = [];
  const transports: Transport[] = [];
  const polled: number[] = [];
  const live = new LiveUpdates({
    websocketUrl: websocketUrl ?? undefined,
    apiKey: 'k e y',
    onEvent: (event) => events.push(event),
    onJob: (job) => jobs.push(job),
    onBatchJob: () => undefined,
    onTransport: (transport) => transports.push(transport),
    getJob: async () => {
      polled.push(Date.now());
      const answer = answers.shift();
      if (!answer) throw new Error('no more answers');
      return answer;
    },
    getBatchJob: async () => {
      throw new Error('not used');
    },
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
  });
  return { live, events, jobs, transports, polled };
}

describe('LiveUpdates', () => {
  beforeEach(() => jest.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('subscribes every watched job once the socket opens and stops following it at its final state', () => {
    const { live, events, transports } = setup([]);
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toBe('ws://api.example/live?key=k%20e%20y');
    live.watch({ kind: 'job', id: 'j1' });
    live.watch({ kind: 'batch', id: 'b1' });
    live.watch({ kind: 'job', id: 'j1' });
    expect(socket.sent).toEqual([]);
    socket.serverOpens();
    expect(transports).toEqual(['connecting', 'live']);
    expect(socket.sent).toEqual([
      { action: 'subscribe', job_id: 'j1' },
      { action: 'subscribe', batch_job_id: 'b1' },
    ]);
    socket.serverSends({
      type: 'job.updated',
      job_id: 'j1',
      status: 'processing',
      progress: 0.5,
      updated_at: 'u',
    });
    socket.serverSends({
      type: 'job.updated',
      job_id: 'j1',
      status: 'succeeded',
      progress: 1,
      updated_at: 'v',
    });
    expect(events.map((event) => event.type === 'job.updated' && event.status)).toEqual([
      'processing',
      'succeeded',
    ]);
    expect(socket.sent).toContainEqual({ action: 'unsubscribe', job_id: 'j1' });
    live.close();
  });

  it('polls with Retry-After when the socket is refused, and returns to the socket when it reconnects', async () => {
    const { live, jobs, transports, polled } = setup([
      { body: view('processing', 0.2), retryAfter: 3 },
      { body: view('processing', 0.6), retryAfter: 3 },
      { body: view('processing', 0.8), retryAfter: 3 },
    ]);
    live.watch({ kind: 'job', id: 'j1' });
    FakeSocket.instances[0]!.serverRefuses();
    expect(transports.at(-1)).toBe('polling');

    await jest.advanceTimersByTimeAsync(0);
    expect(jobs.map((job) => job.progress)).toEqual([0.2]);
    // The reconnect (after 2 s) is refused too; the poll keeps its own Retry-After pace.
    await jest.advanceTimersByTimeAsync(2000);
    FakeSocket.instances[1]!.serverRefuses();
    await jest.advanceTimersByTimeAsync(1000);
    expect(jobs.map((job) => job.progress)).toEqual([0.2, 0.6]);
    expect(polled[1]! - polled[0]!).toBe(3000);

    // The next reconnect (4 s later: backoff) succeeds: subscribe, and no more polls.
    await jest.advanceTimersByTimeAsync(4000);
    const socket = FakeSocket.instances[2]!;
    socket.serverOpens();
    expect(socket.sent).toEqual([{ action: 'subscribe', job_id: 'j1' }]);
    const pollsSoFar = polled.length;
    await jest.advanceTimersByTimeAsync(30_000);
    expect(polled.length).toBe(pollsSoFar);
    // Reconnect attempts never show "connecting" again: the page was polling all along.
    expect(transports).toEqual(['connecting', 'polling', 'polling', 'live']);
    live.close();
  });

  it('stops polling at the final state, and polls only when there is no WebSocket URL', async () => {
    const { live, jobs, transports, polled } = setup(
      [
        { body: view('processing', 0.5), retryAfter: 2 },
        { body: view('succeeded', 1), retryAfter: undefined },
      ],
      null,
    );
    expect(transports).toEqual(['polling']);
    live.watch({ kind: 'job', id: 'j1' });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(jobs.map((job) => job.status)).toEqual(['processing', 'succeeded']);
    expect(polled).toHaveLength(2);
    expect(FakeSocket.instances).toHaveLength(0);
    live.close();
  });

  it('falls back when an open socket closes, then polls what it was following', async () => {
    const { live, jobs, transports } = setup([{ body: view('succeeded', 1), retryAfter: undefined }]);
    live.watch({ kind: 'job', id: 'j1' });
    const socket = FakeSocket.instances[0]!;
    socket.serverOpens();
    socket.close();
    expect(transports).toEqual(['connecting', 'live', 'polling']);
    await jest.advanceTimersByTimeAsync(0);
    expect(jobs.map((job) => job.status)).toEqual(['succeeded']);
    live.close();
  });
});
