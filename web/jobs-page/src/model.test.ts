import {
  batchProgress,
  formatAge,
  initialState,
  isFinalEvent,
  jobProgress,
  parseEvent,
  parseRetryAfter,
  pollDelayMs,
  progressPercent,
  reduce,
  toBatchJobView,
  toJobView,
  type JobView,
  type PageState,
} from './model';

const job = (id: string, created: string, extra: Partial<JobView> = {}): JobView => ({
  job_id: id,
  type: 'completion',
  status: 'queued',
  progress: 0,
  created_at: created,
  updated_at: created,
  ...extra,
});

const withJobs = (...jobs: JobView[]): PageState =>
  reduce(initialState, { type: 'jobs.loaded', jobs, nextCursor: null });

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2')).toBe(2);
    expect(parseRetryAfter(' 30 ')).toBe(30);
    expect(parseRetryAfter('0')).toBe(0);
  });

  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
  });
});

describe('pollDelayMs', () => {
  it('follows Retry-After within 1..60 s and falls back when there is none', () => {
    expect(pollDelayMs(2)).toBe(2000);
    expect(pollDelayMs(0)).toBe(1000);
    expect(pollDelayMs(3600)).toBe(60_000);
    expect(pollDelayMs(undefined)).toBe(2000);
    expect(pollDelayMs(undefined, 5)).toBe(5000);
  });
});

describe('progress', () => {
  it('shows whole percent and 100% only when complete', () => {
    expect(progressPercent(0)).toBe(0);
    expect(progressPercent(0.333)).toBe(33);
    expect(progressPercent(0.999)).toBe(99);
    expect(progressPercent(1)).toBe(100);
    expect(progressPercent(1.7)).toBe(100);
    expect(progressPercent(-1)).toBe(0);
    expect(progressPercent(Number.NaN)).toBe(0);
  });

  it('is full for a succeeded job and counts processed items for a batch', () => {
    expect(jobProgress({ status: 'succeeded', progress: 0.5 })).toBe(1);
    expect(jobProgress({ status: 'cancelled', progress: 0.5 })).toBe(0.5);
    expect(batchProgress({ total_items: 4, processed_items: 1 })).toBe(0.25);
    expect(batchProgress({ total_items: 0, processed_items: 0 })).toBe(0);
  });
});

describe('formatAge', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it('says how long ago, then the date', () => {
    expect(formatAge('2026-03-01T11:59:50Z', now)).toBe('just now');
    expect(formatAge('2026-03-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAge('2026-03-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAge('2026-02-20T08:30:00Z', now)).toBe('2026-02-20 08:30');
    expect(formatAge('not a date', now)).toBe('not a date');
  });
});

describe('parseEvent', () => {
  it('accepts the contract messages', () => {
    expect(
      parseEvent('{"type":"job.updated","job_id":"a","status":"processing","progress":0.5,"updated_at":"t"}'),
    ).toMatchObject({ type: 'job.updated', job_id: 'a', progress: 0.5 });
    expect(
      parseEvent('{"type":"batch_job.updated","batch_job_id":"b","status":"running","updated_at":"t"}'),
    ).toEqual({
      type: 'batch_job.updated',
      batch_job_id: 'b',
      status: 'running',
      updated_at: 't',
      counts: {},
    });
    expect(parseEvent('{"type":"error","code":"not_found","message":"no","job_id":"x"}')).toMatchObject({
      code: 'not_found',
    });
  });

  it('drops anything else', () => {
    expect(parseEvent('not json')).toBeUndefined();
    expect(parseEvent('[1]')).toBeUndefined();
    expect(parseEvent('{"type":"job.updated","status":"queued"}')).toBeUndefined();
    expect(parseEvent('{"type":"something.else","job_id":"a"}')).toBeUndefined();
  });

  it('knows which events end a subscription', () => {
    const event = (status: string) =>
      parseEvent(JSON.stringify({ type: 'job.updated', job_id: 'a', status, progress: 1, updated_at: 't' }))!;
    expect(isFinalEvent(event('processing'))).toBe(false);
    expect(isFinalEvent(event('succeeded'))).toBe(true);
    expect(isFinalEvent(event('cancelled'))).toBe(true);
  });
});

describe('views', () => {
  it('reads a batch job view whose id is job_id, and errors given as strings', () => {
    const view = toBatchJobView({
      job_id: 'b1',
      name: 'Reviews',
      status: 'running',
      total_items: 3,
      processed_items: 1,
      succeeded_items: 1,
      failed_items: 0,
      created_at: 't',
      updated_at: 't',
    });
    expect(view).toMatchObject({ batch_job_id: 'b1', name: 'Reviews', total_items: 3, processed_items: 1 });
    expect(view).not.toHaveProperty('job_id');
    expect(toJobView({ ...job('a', 't'), error: 'boom', progress: 2 })).toMatchObject({
      error: { code: 'error', message: 'boom' },
      progress: 1,
    });
  });
});

describe('reduce', () => {
  it('lists jobs newest first and appends a next page without duplicates', () => {
    let state = withJobs(job('old', '2026-01-01T00:00:00Z'), job('new', '2026-01-02T00:00:00Z'));
    expect(state.jobs.map((row) => row.job_id)).toEqual(['new', 'old']);
    state = reduce(state, {
      type: 'jobs.loaded',
      jobs: [job('old', '2026-01-01T00:00:00Z'), job('older', '2025-12-01T00:00:00Z')],
      nextCursor: 'c2',
      append: true,
    });
    expect(state.jobs.map((row) => row.job_id)).toEqual(['new', 'old', 'older']);
    expect(state.jobsCursor).toBe('c2');
  });

  it('moves a job forward on job.updated and keeps its other fields', () => {
    const state = reduce(withJobs(job('a', '2026-01-01T00:00:00Z')), {
      type: 'event',
      event: {
        type: 'job.updated',
        job_id: 'a',
        status: 'processing',
        progress: 0.4,
        updated_at: '2026-01-01T00:00:05Z',
      },
    });
    expect(state.jobs[0]).toMatchObject({
      job_id: 'a',
      type: 'completion',
      status: 'processing',
      progress: 0.4,
    });
  });

  it('never lets an older view overwrite a newer one', () => {
    const done = job('a', '2026-01-01T00:00:00Z', {
      status: 'succeeded',
      progress: 1,
      updated_at: '2026-01-01T00:00:09Z',
    });
    const state = withJobs(done);
    const late = reduce(state, {
      type: 'job.upserted',
      job: { ...done, status: 'processing', progress: 0.5, updated_at: '2026-01-01T00:00:04Z' },
    });
    expect(late).toBe(state);
    const lateEvent = reduce(state, {
      type: 'event',
      event: {
        type: 'job.updated',
        job_id: 'a',
        status: 'processing',
        progress: 0.5,
        updated_at: '2026-01-01T00:00:04Z',
      },
    });
    expect(lateEvent).toBe(state);
  });

  it('records the error and cancel request an event carries', () => {
    const state = reduce(withJobs(job('a', '2026-01-01T00:00:00Z')), {
      type: 'event',
      event: {
        type: 'job.updated',
        job_id: 'a',
        status: 'failed',
        progress: 0.5,
        updated_at: '2026-01-01T00:00:05Z',
        error: { code: 'llm_failed', message: 'The model did not answer' },
        cancel_requested: false,
      },
    });
    expect(state.jobs[0]).toMatchObject({
      status: 'failed',
      error: { code: 'llm_failed', message: 'The model did not answer' },
      cancel_requested: false,
    });
  });

  it('ignores events for jobs it does not show', () => {
    const state = withJobs(job('a', '2026-01-01T00:00:00Z'));
    expect(
      reduce(state, {
        type: 'event',
        event: { type: 'job.updated', job_id: 'zzz', status: 'processing', progress: 0.1, updated_at: 'u' },
      }),
    ).toBe(state);
  });

  it('adds a submitted job in its place and replaces it on later views', () => {
    let state = withJobs(job('a', '2026-01-01T00:00:00Z'));
    state = reduce(state, { type: 'job.upserted', job: job('b', '2026-01-03T00:00:00Z') });
    expect(state.jobs.map((row) => row.job_id)).toEqual(['b', 'a']);
    state = reduce(state, {
      type: 'job.upserted',
      job: job('b', '2026-01-03T00:00:00Z', {
        status: 'succeeded',
        progress: 1,
        updated_at: '2026-01-03T00:00:04Z',
        result: { text: 'hi' },
      }),
    });
    expect(state.jobs).toHaveLength(2);
    expect(state.jobs[0]).toMatchObject({ status: 'succeeded', result: { text: 'hi' } });
  });

  it('updates a batch job from counts, and the open items of the selected one', () => {
    let state = reduce(initialState, {
      type: 'batchJobs.loaded',
      batchJobs: [
        toBatchJobView({
          job_id: 'b',
          status: 'running',
          total_items: 2,
          processed_items: 0,
          succeeded_items: 0,
          failed_items: 0,
          created_at: '2026-01-01T00:00:00Z',
          updated_at: '2026-01-01T00:00:00Z',
        }),
      ],
      nextCursor: null,
    });
    state = reduce(state, { type: 'selected', selection: { kind: 'batch', id: 'b' } });
    state = reduce(state, {
      type: 'items.loaded',
      batchJobId: 'b',
      items: [
        { item_id: '0001', status: 'submitted' },
        { item_id: '0002', status: 'submitted' },
      ],
    });
    state = reduce(state, {
      type: 'event',
      event: {
        type: 'batch_job.updated',
        batch_job_id: 'b',
        status: 'running',
        counts: { processed_items: 1, succeeded_items: 1, bogus: 'x' },
        updated_at: '2026-01-01T00:00:03Z',
      },
    });
    state = reduce(state, {
      type: 'event',
      event: {
        type: 'batch_item.completed',
        batch_job_id: 'b',
        item_id: '0002',
        status: 'failed',
        error: 'expired',
      },
    });
    expect(state.batchJobs[0]).toMatchObject({ processed_items: 1, succeeded_items: 1, total_items: 2 });
    expect(batchProgress(state.batchJobs[0]!)).toBe(0.5);
    expect(state.items).toEqual([
      { item_id: '0001', status: 'submitted' },
      { item_id: '0002', status: 'failed', error: { code: 'error', message: 'expired' } },
    ]);
  });

  it('drops items loaded for a batch job no longer selected', () => {
    const state = reduce(initialState, { type: 'selected', selection: { kind: 'job', id: 'a' } });
    expect(reduce(state, { type: 'items.loaded', batchJobId: 'b', items: [] })).toBe(state);
  });

  it('keeps the transport across a reset (a new key) and clears everything else', () => {
    let state = reduce(withJobs(job('a', 't')), { type: 'transport', transport: 'live' });
    state = reduce(state, { type: 'reset' });
    expect(state).toEqual({ ...initialState, transport: 'live' });
  });
});
