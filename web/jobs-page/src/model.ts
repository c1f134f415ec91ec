/**
 * The jobs page's pure logic: the views the APIs answer with, the live events, one reducer that
 * folds both into the page state, and the small parsers and formatters the UI uses. No DOM and no
 * network here, so all of it is unit-tested in Node.
 */

export type JobStatus = 'queued' | 'processing' | 'succeeded' | 'failed' | 'cancelled';
export type BatchJobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface PublicError {
  code: string;
  message: string;
}

export interface JobView {
  job_id: string;
  type: string;
  status: JobStatus;
  progress: number;
  created_at: string;
  updated_at: string;
  completed_at?: string;
  result?: unknown;
  error?: PublicError;
  cancel_requested?: boolean;
}

export interface BatchCounts {
  total_items: number;
  submitted_items?: number;
  processed_items: number;
  succeeded_items: number;
  failed_items: number;
  cancelled_items?: number;
}

export interface BatchJobView extends BatchCounts {
  batch_job_id: string;
  name?: string;
  status: BatchJobStatus;
  created_at: string;
  updated_at: string;
  completed_at?: string;
  cancel_requested?: boolean;
}

export interface BatchItemView {
  item_id: string;
  status: string;
  result?: unknown;
  error?: PublicError;
}

export type LiveEvent =
  | {
      type: 'job.updated';
      job_id: string;
      status: JobStatus;
      progress: number;
      updated_at: string;
      error?: unknown;
      cancel_requested?: boolean;
    }
  | {
      type: 'batch_job.updated';
      batch_job_id: string;
      status: BatchJobStatus;
      counts: Record<string, unknown>;
      updated_at: string;
    }
  | {
      type: 'batch_item.completed';
      batch_job_id: string;
      item_id: string;
      status: string;
      result?: unknown;
      error?: unknown;
    }
  | { type: 'error'; code: string; message: string; job_id?: string; batch_job_id?: string };

/** How updates reach the page: over the socket, by polling, or not yet known. */
export type Transport = 'connecting' | 'live' | 'polling';

export type Selection = { kind: 'job'; id: string } | { kind: 'batch'; id: string } | undefined;

export interface PageState {
  jobs: JobView[];
  batchJobs: BatchJobView[];
  jobsCursor: string | null;
  batchCursor: string | null;
  selected: Selection;
  /** Items of the selected batch job, in submission order, once loaded. */
  items: BatchItemView[] | undefined;
  transport: Transport;
}

export const initialState: PageState = {
  jobs: [],
  batchJobs: [],
  jobsCursor: null,
  batchCursor: null,
  selected: undefined,
  items: undefined,
  transport: 'connecting',
};

export type Action =
  | { type: 'jobs.loaded'; jobs: JobView[]; nextCursor: string | null; append?: boolean }
  | { type: 'batchJobs.loaded'; batchJobs: BatchJobView[]; nextCursor: string | null; append?: boolean }
  | { type: 'job.upserted'; job: JobView }
  | { type: 'batchJob.upserted'; batchJob: BatchJobView }
  | { type: 'items.loaded'; batchJobId: string; items: BatchItemView[] }
  | { type: 'selected'; selection: Selection }
  | { type: 'transport'; transport: Transport }
  | { type: 'event'; event: LiveEvent }
  | { type: 'reset' };

const TERMINAL_JOB: readonly string[] = ['succeeded', 'failed', 'cancelled'];
const TERMINAL_BATCH: readonly string[] = ['completed', 'failed', 'cancelled'];

export const isJobOpen = (job: Pick<JobView, 'status'>) => !TERMINAL_JOB.includes(job.status);
export const isBatchJobOpen = (job: Pick<BatchJobView, 'status'>) => !TERMINAL_BATCH.includes(job.status);

/** Newest first, as the APIs list them; ties broken by id so the order never flickers. */
function newestFirst<T extends { created_at: string }>(id: (row: T) => string) {
  return (a: T, b: T) => b.created_at.localeCompare(a.created_at) || id(a).localeCompare(id(b));
}
const byJob = newestFirst<JobView>((job) => job.job_id);
const byBatch = newestFirst<BatchJobView>((job) => job.batch_job_id);

function upsert<T>(rows: T[], row: T, same: (a: T) => boolean, order: (a: T, b: T) => number): T[] {
  const index = rows.findIndex(same);
  if (index === -1) return [...rows, row].sort(order);
  const next = rows.slice();
  next[index] = row;
  return next;
}

/** A later view never loses to an earlier one that arrives late (a slow poll after an event). */
function newer(current: { updated_at: string } | undefined, incoming: { updated_at: string }): boolean {
  return !current || incoming.updated_at >= current.updated_at;
}

function mergeLists<T>(current: T[], incoming: T[], id: (row: T) => string, append: boolean): T[] {
  if (!append) return incoming;
  const seen = new Set(current.map(id));
  return [...current, ...incoming.filter((row) => !seen.has(id(row)))];
}

export function reduce(state: PageState, action: Action): PageState {
  switch (action.type) {
    case 'jobs.loaded':
      return {
        ...state,
        jobs: mergeLists(state.jobs, action.jobs, (job) => job.job_id, action.append ?? false).sort(byJob),
        jobsCursor: action.nextCursor,
      };
    case 'batchJobs.loaded':
      return {
        ...state,
        batchJobs: mergeLists(
          state.batchJobs,
          action.batchJobs,
          (job) => job.batch_job_id,
          action.append ?? false,
        ).sort(byBatch),
        batchCursor: action.nextCursor,
      };
    case 'job.upserted': {
      const current = state.jobs.find((job) => job.job_id === action.job.job_id);
      if (!newer(current, action.job)) return state;
      const job = { ...current, ...action.job };
      return { ...state, jobs: upsert(state.jobs, job, (row) => row.job_id === job.job_id, byJob) };
    }
    case 'batchJob.upserted': {
      const current = state.batchJobs.find((job) => job.batch_job_id === action.batchJob.batch_job_id);
      if (!newer(current, action.batchJob)) return state;
      const job = { ...current, ...action.batchJob };
      return {
        ...state,
        batchJobs: upsert(state.batchJobs, job, (row) => row.batch_job_id === job.batch_job_id, byBatch),
      };
    }
    case 'items.loaded':
      if (state.selected?.kind !== 'batch' || state.selected.id !== action.batchJobId) return state;
      return { ...state, items: action.items };
    case 'selected':
      return { ...state, selected: action.selection, items: undefined };
    case 'transport':
      return state.transport === action.transport ? state : { ...state, transport: action.transport };
    case 'event':
      return applyEvent(state, action.event);
    case 'reset':
      return { ...initialState, transport: state.transport };
  }
}

function applyEvent(state: PageState, event: LiveEvent): PageState {
  switch (event.type) {
    case 'job.updated': {
      const current = state.jobs.find((job) => job.job_id === event.job_id);
      // An event for a job the page has not listed carries too little to draw a row; the next
      // list load brings it.
      if (!current || !newer(current, event)) return state;
      const job: JobView = {
        ...current,
        status: event.status,
        progress: clampProgress(event.progress),
        updated_at: event.updated_at,
        ...(event.error !== undefined && { error: toPublicError(event.error) }),
        ...(event.cancel_requested !== undefined && { cancel_requested: event.cancel_requested }),
      };
      return reduce(state, { type: 'job.upserted', job });
    }
    case 'batch_job.updated': {
      const current = state.batchJobs.find((job) => job.batch_job_id === event.batch_job_id);
      if (!current || !newer(current, event)) return state;
      const batchJob: BatchJobView = {
        ...current,
        ...countsFrom(event.counts),
        status: event.status,
        updated_at: event.updated_at,
      };
      return reduce(state, { type: 'batchJob.upserted', batchJob });
    }
    case 'batch_item.completed': {
      if (state.selected?.kind !== 'batch' || state.selected.id !== event.batch_job_id || !state.items) {
        return state;
      }
      const item: BatchItemView = {
        item_id: event.item_id,
        status: event.status,
        ...(event.result !== undefined && { result: event.result }),
        ...(event.error !== undefined && { error: toPublicError(event.error) }),
      };
      const index = state.items.findIndex((row) => row.item_id === item.item_id);
      const items = state.items.slice();
      if (index === -1) items.push(item);
      else items[index] = { ...items[index], ...item };
      return { ...state, items };
    }
    case 'error':
      return state;
  }
}

/** A count object from an event: known fields only, numbers only. */
function countsFrom(counts: Record<string, unknown>): Partial<BatchCounts> {
  const out: Partial<BatchCounts> = {};
  for (const key of [
    'total_items',
    'submitted_items',
    'processed_items',
    'succeeded_items',
    'failed_items',
    'cancelled_items',
  ] as const) {
    const value = counts[key];
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  }
  return out;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Errors are `{code, message}`; anything else (an older record's string) still reads as one. */
export function toPublicError(value: unknown): PublicError {
  if (isRecord(value) && typeof value.code === 'string') {
    return { code: value.code, message: typeof value.message === 'string' ? value.message : '' };
  }
  return { code: 'error', message: typeof value === 'string' ? value : JSON.stringify(value) };
}

/** A batch job from the API, whose id field is `job_id` on the HTTP views and `batch_job_id` in events. */
export function toBatchJobView(raw: Record<string, unknown>): BatchJobView {
  const id = (raw.batch_job_id ?? raw.job_id) as string;
  const { job_id: _jobId, ...rest } = raw;
  return {
    ...(rest as unknown as BatchJobView),
    batch_job_id: id,
    ...countsFrom(raw),
    total_items: typeof raw.total_items === 'number' ? raw.total_items : 0,
    processed_items: typeof raw.processed_items === 'number' ? raw.processed_items : 0,
    succeeded_items: typeof raw.succeeded_items === 'number' ? raw.succeeded_items : 0,
    failed_items: typeof raw.failed_items === 'number' ? raw.failed_items : 0,
  };
}

export function toJobView(raw: Record<string, unknown>): JobView {
  const view = { ...(raw as unknown as JobView), progress: clampProgress(raw.progress) };
  if (raw.error !== undefined) view.error = toPublicError(raw.error);
  return view;
}

/** Parses a live message; anything that is not one of the contract's events is dropped (undefined). */
export function parseEvent(data: string): LiveEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.type !== 'string') return undefined;
  switch (value.type) {
    case 'job.updated':
      return typeof value.job_id === 'string' && typeof value.status === 'string'
        ? (value as LiveEvent)
        : undefined;
    case 'batch_job.updated':
      return typeof value.batch_job_id === 'string' && typeof value.status === 'string'
        ? ({ ...value, counts: isRecord(value.counts) ? value.counts : {} } as LiveEvent)
        : undefined;
    case 'batch_item.completed':
      return typeof value.batch_job_id === 'string' && typeof value.item_id === 'string'
        ? (value as LiveEvent)
        : undefined;
    case 'error':
      return typeof value.code === 'string' ? (value as LiveEvent) : undefined;
    default:
      return undefined;
  }
}

/** Whether an event is the last one its subscription will bring. */
export function isFinalEvent(event: LiveEvent): boolean {
  if (event.type === 'job.updated') return !isJobOpen(event);
  if (event.type === 'batch_job.updated') return !isBatchJobOpen(event);
  return event.type === 'error';
}

/**
 * Seconds to wait from a `Retry-After` value: delta-seconds, or an HTTP date relative to `now`.
 * Undefined when absent or unreadable, so the caller picks its own default.
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  // Only an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would take "-3" or "1.5".
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** The poll delay: the server's Retry-After within sane bounds, else the fallback. */
export function pollDelayMs(retryAfterSeconds: number | undefined, fallbackSeconds = 2): number {
  const seconds = retryAfterSeconds ?? fallbackSeconds;
  return Math.min(Math.max(seconds, 1), 60) * 1000;
}

export function clampProgress(value: unknown): number {
  const number = typeof value === 'number' && Number.isFinite(value) ? value : 0;
  return Math.min(Math.max(number, 0), 1);
}

/** Whole percent for the bar and its label; 100% only when the work is really complete. */
export function progressPercent(progress: number): number {
  const clamped = clampProgress(progress);
  return clamped >= 1 ? 100 : Math.min(Math.floor(clamped * 100), 99);
}

export function jobProgress(job: Pick<JobView, 'status' | 'progress'>): number {
  return job.status === 'succeeded' ? 1 : clampProgress(job.progress);
}

export function batchProgress(job: Pick<BatchJobView, 'total_items' | 'processed_items'>): number {
  return job.total_items > 0 ? clampProgress(job.processed_items / job.total_items) : 0;
}

/** "just now", "5 min ago", "3 h ago", else the date; `now` injectable for tests. */
export function formatAge(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(then).toISOString().slice(0, 16).replace('T', ' ');
}

export const shortId = (id: string) => id.slice(0, 8);
