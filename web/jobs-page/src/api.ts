import {
  parseRetryAfter,
  toBatchJobView,
  toJobView,
  type BatchItemView,
  type BatchJobView,
  type JobView,
} from './model';

/** config.json beside the page: where the stage's APIs are. */
export interface PageConfig {
  jobs_api_url: string;
  batch_api_url: string;
  /** Absent where the stage has no WebSocket API: the page polls. */
  websocket_url?: string;
}

export function parseConfig(value: unknown): PageConfig {
  const record = (value ?? {}) as Record<string, unknown>;
  const url = (key: string, required: boolean) => {
    const raw = record[key];
    if (raw === undefined && !required) return undefined;
    if (typeof raw !== 'string' || !/^(https?|wss?):\/\//.test(raw)) {
      throw new Error(`config.json: ${key} must be an http(s) or ws(s) URL`);
    }
    return raw.replace(/\/+$/, '');
  };
  const websocket = url('websocket_url', false);
  return {
    jobs_api_url: url('jobs_api_url', true)!,
    batch_api_url: url('batch_api_url', true)!,
    ...(websocket && { websocket_url: websocket }),
  };
}

/** An answer the API refused, with its public code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Answer<T> {
  body: T;
  /** Seconds from Retry-After, when the server sent one (and CORS lets the page read it). */
  retryAfter: number | undefined;
}

export type CreateJobBody =
  | { type: 'completion'; config: { prompt: string; system?: string } }
  | {
      type: 'simulation' | 'panel' | 'discussion';
      config: { topic: string; agents: number; rounds?: number };
    };

export interface JobsApi {
  listJobs(cursor?: string | null): Promise<Answer<{ jobs: JobView[]; next_cursor: string | null }>>;
  listBatchJobs(
    cursor?: string | null,
  ): Promise<Answer<{ batch_jobs: BatchJobView[]; next_cursor: string | null }>>;
  getJob(id: string): Promise<Answer<JobView>>;
  getBatchJob(id: string): Promise<Answer<BatchJobView>>;
  listBatchItems(id: string): Promise<Answer<{ items: BatchItemView[] }>>;
  createJob(body: CreateJobBody): Promise<Answer<{ job_id: string; status: string }>>;
  cancelJob(id: string): Promise<Answer<JobView>>;
  cancelBatchJob(id: string): Promise<Answer<BatchJobView>>;
}

const PAGE_SIZE = 20;

export function createApi(config: PageConfig, apiKey: string, fetchImpl: typeof fetch = fetch): JobsApi {
  async function call<T>(base: string, path: string, init: RequestInit = {}): Promise<Answer<T>> {
    const response = await fetchImpl(`${base}${path}`, {
      ...init,
      headers: {
        'x-api-key': apiKey,
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
      },
      cache: 'no-store',
    });
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? (response.statusText || `HTTP ${response.status}`),
        retryAfter,
      );
    }
    return { body: body as T, retryAfter };
  }
  const jobs = config.jobs_api_url;
  const batches = config.batch_api_url;
  const page = (cursor?: string | null) =>
    `?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const asJob = (answer: Answer<Record<string, unknown>>) => ({ ...answer, body: toJobView(answer.body) });
  const asBatch = (answer: Answer<Record<string, unknown>>) => ({
    ...answer,
    body: toBatchJobView(answer.body),
  });

  return {
    listJobs: async (cursor) => {
      const answer = await call<{ jobs: Record<string, unknown>[]; next_cursor: string | null }>(
        jobs,
        `/jobs${page(cursor)}`,
      );
      return { ...answer, body: { ...answer.body, jobs: answer.body.jobs.map(toJobView) } };
    },
    listBatchJobs: async (cursor) => {
      const answer = await call<{ batch_jobs: Record<string, unknown>[]; next_cursor: string | null }>(
        batches,
        `/batch-jobs${page(cursor)}`,
      );
      return {
        ...answer,
        body: { ...answer.body, batch_jobs: answer.body.batch_jobs.map(toBatchJobView) },
      };
    },
    getJob: async (id) => asJob(await call(jobs, `/jobs/${encodeURIComponent(id)}`)),
    getBatchJob: async (id) => asBatch(await call(batches, `/batch-jobs/${encodeURIComponent(id)}`)),
    listBatchItems: (id) => call(batches, `/batch-jobs/${encodeURIComponent(id)}/items?limit=100`),
    createJob: (body) => call(jobs, '/jobs', { method: 'POST', body: JSON.stringify(body) }),
    cancelJob: async (id) => asJob(await call(jobs, `/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' })),
    cancelBatchJob: async (id) =>
      asBatch(await call(batches, `/batch-jobs/${encodeURIComponent(id)}`, { method: 'DELETE' })),
  };
}
