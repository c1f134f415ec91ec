import {
  isBatchJobOpen,
  isFinalEvent,
  isJobOpen,
  parseEvent,
  pollDelayMs,
  type BatchJobView,
  type JobView,
  type LiveEvent,
  type Transport,
} from './model';
import type { Answer } from './api';

export type Watched = { kind: 'job'; id: string } | { kind: 'batch'; id: string };

export interface LiveOptions {
  /** The stage's WebSocket URL; without one the page polls. */
  websocketUrl?: string;
  apiKey: string;
  onEvent(event: LiveEvent): void;
  onJob(job: JobView): void;
  onBatchJob(job: BatchJobView): void;
  onTransport(transport: Transport): void;
  getJob(id: string): Promise<Answer<JobView>>;
  getBatchJob(id: string): Promise<Answer<BatchJobView>>;
  /** Injectable for tests; the browser's WebSocket otherwise. */
  WebSocketImpl?: typeof WebSocket;
}

const keyOf = (watched: Watched) => `${watched.kind}:${watched.id}`;
const RECONNECT_MIN_MS = 2000;
const RECONNECT_MAX_MS = 30_000;

/**
 * Keeps every open job the page shows up to date: subscribed over the WebSocket while it is up,
 * polled with the server's Retry-After while it is not (cannot connect, or closed), and back on
 * the socket once a reconnect succeeds.
 */
export class LiveUpdates {
  private readonly watched = new Map<string, Watched>();
  private readonly polls = new Map<string, ReturnType<typeof setTimeout>>();
  private socket: WebSocket | undefined;
  private open = false;
  private closed = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LiveOptions) {
    if (options.websocketUrl) {
      options.onTransport('connecting');
      this.connect();
    } else {
      options.onTransport('polling');
    }
  }

  /** Follows a job until its final state; watching one already followed does nothing. */
  watch(watched: Watched): void {
    const key = keyOf(watched);
    if (this.closed || this.watched.has(key)) return;
    this.watched.set(key, watched);
    if (this.open) this.send('subscribe', watched);
    else if (!this.socket) this.schedulePoll(watched, 0);
  }

  unwatch(watched: Watched): void {
    const key = keyOf(watched);
    if (!this.watched.delete(key)) return;
    this.stopPoll(key);
    if (this.open) this.send('unsubscribe', watched);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const key of [...this.polls.keys()]) this.stopPoll(key);
    this.watched.clear();
    this.socket?.close();
    this.socket = undefined;
  }

  private connect(): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const url = `${this.options.websocketUrl}?key=${encodeURIComponent(this.options.apiKey)}`;
    let socket: WebSocket;
    try {
      socket = new Impl(url);
    } catch {
      this.fallBack();
      return;
    }
    // Reconnect attempts stay "polling" until one opens: the page keeps polling meanwhile.
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.open = true;
      this.reconnectDelay = RECONNECT_MIN_MS;
      this.options.onTransport('live');
      // Subscribing answers with the current state at once, so a poll in flight is no longer needed.
      for (const [key, watched] of this.watched) {
        this.stopPoll(key);
        this.send('subscribe', watched);
      }
    });
    socket.addEventListener('message', (message: MessageEvent) => {
      if (typeof message.data !== 'string') return;
      const event = parseEvent(message.data);
      if (!event) return;
      this.options.onEvent(event);
      if (isFinalEvent(event)) this.forget(event);
    });
    // A refused handshake (bad key, no API) and a dropped socket both end here ('error' always
    // precedes 'close').
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.open = false;
      if (!this.closed) this.fallBack();
    });
  }

  private fallBack(): void {
    this.options.onTransport('polling');
    for (const watched of this.watched.values()) this.schedulePoll(watched, 0);
    this.reconnectTimer = setTimeout(() => {
      if (!this.closed) this.connect();
    }, this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  private forget(event: LiveEvent): void {
    // Items complete one by one; only the job's own final state ends its subscription.
    if (event.type === 'job.updated') this.unwatch({ kind: 'job', id: event.job_id });
    else if (event.type === 'batch_job.updated') this.unwatch({ kind: 'batch', id: event.batch_job_id });
    else if (event.type === 'error') {
      if (event.job_id) this.watched.delete(keyOf({ kind: 'job', id: event.job_id }));
      if (event.batch_job_id) this.watched.delete(keyOf({ kind: 'batch', id: event.batch_job_id }));
    }
  }

  private send(action: 'subscribe' | 'unsubscribe', watched: Watched): void {
    const target = watched.kind === 'job' ? { job_id: watched.id } : { batch_job_id: watched.id };
    this.socket?.send(JSON.stringify({ action, ...target }));
  }

  private stopPoll(key: string): void {
    clearTimeout(this.polls.get(key));
    this.polls.delete(key);
  }

  private schedulePoll(watched: Watched, delayMs: number): void {
    const key = keyOf(watched);
    if (this.polls.has(key)) return;
    this.polls.set(
      key,
      setTimeout(() => void this.poll(watched), delayMs),
    );
  }

  private async poll(watched: Watched): Promise<void> {
    const key = keyOf(watched);
    this.polls.delete(key);
    if (!this.watched.has(key) || this.open) return;
    let delay: number;
    try {
      if (watched.kind === 'job') {
        const { body, retryAfter } = await this.options.getJob(watched.id);
        this.options.onJob(body);
        if (!isJobOpen(body)) return void this.watched.delete(key);
        delay = pollDelayMs(retryAfter);
      } else {
        const { body, retryAfter } = await this.options.getBatchJob(watched.id);
        this.options.onBatchJob(body);
        if (!isBatchJobOpen(body)) return void this.watched.delete(key);
        delay = pollDelayMs(retryAfter, 5);
      }
    } catch (error) {
      const status = (error as { status?: number }).status;
      // Gone (or never ours): stop; anything else (network, 5xx, 429) is retried, slower.
      if (status === 404 || status === 401) return void this.watched.delete(key);
      delay = pollDelayMs((error as { retryAfter?: number }).retryAfter, 5);
    }
    if (this.watched.has(key) && !this.open && !this.closed) this.schedulePoll(watched, delay);
  }
}
