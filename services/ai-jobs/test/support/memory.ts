export { ScriptedLlm } from '@offload/testing/llm';
import type { Job, JobRequested, JobResult } from '@offload/messages';
import type {
  Controls,
  IdempotencyClaim,
  JobPageRequest,
  JobPublisher,
  JobStore,
  ResultSender,
} from '../../src/domain/jobs';

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** In-memory JobStore with the DynamoDB adapter's conditions. For unit tests only. */
export class MemoryJobStore implements JobStore {
  readonly jobs = new Map<string, Job>();
  readonly progressWrites: number[] = [];
  cancelChecks = 0;

  async create(job: Job) {
    if (this.jobs.has(job.job_id)) throw new Error('ConditionalCheckFailedException');
    this.jobs.set(job.job_id, structuredClone(job));
  }
  async get(jobId: string) {
    const job = this.jobs.get(jobId);
    return job && structuredClone(job);
  }
  async remove(jobId: string) {
    this.jobs.delete(jobId);
  }
  async start(jobId: string, now: string) {
    const job = this.jobs.get(jobId);
    if (!job || TERMINAL.includes(job.status)) return undefined;
    Object.assign(job, { status: 'processing', attempts: job.attempts + 1, updated_at: now });
    job.started_at ??= now;
    return structuredClone(job);
  }
  async progress(jobId: string, progress: number, now: string) {
    const job = this.jobs.get(jobId);
    if (job?.status !== 'processing' || job.progress >= progress) return;
    Object.assign(job, { progress, updated_at: now });
    this.progressWrites.push(progress);
  }
  async finish(result: JobResult['data'], now: string) {
    const job = this.jobs.get(result.job_id);
    if (!job || TERMINAL.includes(job.status) || job.cancel_requested) return false;
    Object.assign(job, { status: result.status, completed_at: result.finished_at, updated_at: now });
    if (result.status === 'succeeded') Object.assign(job, { result: result.result, progress: 1 });
    else job.error = result.error;
    return true;
  }
  async staleProcessing(updatedBefore: string) {
    return [...this.jobs.values()]
      .filter((job) => job.status === 'processing' && job.updated_at < updatedBefore)
      .map((job) => structuredClone(job));
  }
  async failStale(seen: Job, error: string, now: string) {
    const job = this.jobs.get(seen.job_id);
    if (job?.status !== 'processing' || job.updated_at !== seen.updated_at) return false;
    Object.assign(job, { status: 'failed', error, completed_at: now, updated_at: now });
    return true;
  }
  async listByOwner(owner: string, page: JobPageRequest) {
    const key = (job: Pick<Job, 'created_at' | 'job_id'>) => `${job.created_at}#${job.job_id}`;
    const mine = [...this.jobs.values()]
      .filter((job) => job.owner === owner && (!page.status || job.status === page.status))
      .filter((job) => !page.after || key(job) < key(page.after))
      .sort((a, b) => key(b).localeCompare(key(a)));
    const jobs = mine.slice(0, page.limit).map((job) => structuredClone(job));
    const last = mine.length > page.limit ? jobs.at(-1) : undefined;
    return { jobs, ...(last && { next: { created_at: last.created_at, job_id: last.job_id } }) };
  }
  async cancelQueued(jobId: string, now: string) {
    const job = this.jobs.get(jobId);
    if (job?.status !== 'queued') return undefined;
    Object.assign(job, { status: 'cancelled', completed_at: now, updated_at: now });
    return structuredClone(job);
  }
  async requestCancel(jobId: string, now: string) {
    const job = this.jobs.get(jobId);
    if (job?.status !== 'processing') return undefined;
    Object.assign(job, { cancel_requested: true, updated_at: now });
    return structuredClone(job);
  }
  async cancelRequested(jobId: string) {
    this.cancelChecks += 1;
    return this.jobs.get(jobId)?.cancel_requested === true;
  }
  async finishCancelled(jobId: string, now: string) {
    const job = this.jobs.get(jobId);
    if (!job || TERMINAL.includes(job.status) || !job.cancel_requested) return false;
    Object.assign(job, { status: 'cancelled', completed_at: now, updated_at: now });
    return true;
  }
}

export class MemoryControls implements Controls {
  readonly claims = new Map<string, IdempotencyClaim>();
  readonly windows = new Map<string, number>();
  async claimIdempotencyKey(owner: string, key: string, claim: IdempotencyClaim) {
    const existing = this.claims.get(`${owner}#${key}`);
    if (existing) return existing;
    this.claims.set(`${owner}#${key}`, claim);
    return undefined;
  }
  async releaseIdempotencyKey(owner: string, key: string) {
    this.claims.delete(`${owner}#${key}`);
  }
  async takeRateToken(owner: string, limit: number, now: Date) {
    const seconds = Math.floor(now.getTime() / 1000);
    const windowStart = seconds - (seconds % 60);
    const used = this.windows.get(`${owner}#${windowStart}`) ?? 0;
    if (used >= limit) return { allowed: false as const, retryAfterSeconds: windowStart + 60 - seconds };
    this.windows.set(`${owner}#${windowStart}`, used + 1);
    return { allowed: true as const };
  }
}

export class MemoryPublisher implements JobPublisher {
  readonly published: JobRequested[] = [];
  failNext = false;
  async publish(message: JobRequested) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('topic unavailable');
    }
    this.published.push(message);
  }
}

export class MemoryResults implements ResultSender {
  readonly sent: JobResult[] = [];
  async send(message: JobResult) {
    this.sent.push(message);
  }
}

export const fixedClock = (iso = '2026-11-24T12:00:30Z') => ({ now: () => new Date(iso) });
