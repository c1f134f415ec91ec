export { fixedClock } from '@offload/testing/clock';
export { ScriptedLlm } from '@offload/testing/llm';
import type { PublicFailure } from '@offload/errors';
import type { Job, JobOutcome, JobRequested, JobResult } from '@offload/messages';
import { conditionFailed } from '@offload/testing/conditionFailed';
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

  failNextCreate = false;

  async create(job: Job) {
    if (this.failNextCreate) {
      this.failNextCreate = false;
      throw new Error('table unavailable');
    }
    if (this.jobs.has(job.job_id)) throw conditionFailed();
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
  async finish(result: JobOutcome, now: string) {
    const job = this.jobs.get(result.job_id);
    if (!job || TERMINAL.includes(job.status) || job.cancel_requested) return undefined;
    Object.assign(job, { status: result.status, completed_at: result.finished_at, updated_at: now });
    if (result.status === 'succeeded') Object.assign(job, { result: result.result, progress: 1 });
    else job.error = result.error;
    return structuredClone(job);
  }
  async staleProcessing(updatedBefore: string) {
    return [...this.jobs.values()]
      .filter((job) => job.status === 'processing' && job.updated_at < updatedBefore)
      .map((job) => structuredClone(job));
  }
  async staleQueued(updatedBefore: string) {
    return [...this.jobs.values()]
      .filter((job) => job.status === 'queued' && job.updated_at < updatedBefore)
      .map((job) => structuredClone(job));
  }
  async markRepublished(seen: Job, now: string) {
    const job = this.jobs.get(seen.job_id);
    if (job?.status !== 'queued' || job.updated_at !== seen.updated_at) return false;
    Object.assign(job, { updated_at: now, republished: (job.republished ?? 0) + 1 });
    return true;
  }
  async failStale(seen: Job, error: PublicFailure, now: string) {
    const job = this.jobs.get(seen.job_id);
    if (job?.status !== seen.status || job.updated_at !== seen.updated_at) return false;
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
    if (!job || TERMINAL.includes(job.status) || !job.cancel_requested) return undefined;
    Object.assign(job, { status: 'cancelled', completed_at: now, updated_at: now });
    return structuredClone(job);
  }
}

/** In-memory Controls; keys are kept apart by a Map of tuples, as the DynamoDB adapter's encoding does. */
export class MemoryControls implements Controls {
  readonly claims = new Map<string, IdempotencyClaim>();
  readonly windows = new Map<string, number>();
  readonly budgets = new Map<string, number>();
  private readonly key = (...parts: (string | number)[]) => JSON.stringify(parts);
  async claimIdempotencyKey(owner: string, key: string, claim: IdempotencyClaim) {
    const existing = this.claims.get(this.key(owner, key));
    if (existing) return existing;
    this.claims.set(this.key(owner, key), claim);
    return undefined;
  }
  async releaseIdempotencyKey(owner: string, key: string) {
    this.claims.delete(this.key(owner, key));
  }
  async takeRateToken(owner: string, limit: number, now: Date) {
    const seconds = Math.floor(now.getTime() / 1000);
    const windowStart = seconds - (seconds % 60);
    const used = this.windows.get(this.key(owner, windowStart)) ?? 0;
    if (used >= limit) return { allowed: false as const, retryAfterSeconds: windowStart + 60 - seconds };
    this.windows.set(this.key(owner, windowStart), used + 1);
    return { allowed: true as const };
  }
  private hour(now: Date) {
    const seconds = Math.floor(now.getTime() / 1000);
    return { start: seconds - (seconds % 3600), left: 3600 - (seconds % 3600) };
  }
  async chargeLlmCalls(owner: string, calls: number, limit: number, now: Date) {
    const { start, left } = this.hour(now);
    const used = this.budgets.get(this.key(owner, start)) ?? 0;
    if (used + calls > limit) return { allowed: false as const, retryAfterSeconds: left };
    this.budgets.set(this.key(owner, start), used + calls);
    return { allowed: true as const };
  }
  async refundLlmCalls(owner: string, calls: number, now: Date) {
    const { start } = this.hour(now);
    const spent = this.budgets.get(this.key(owner, start));
    if (spent !== undefined) this.budgets.set(this.key(owner, start), spent - calls);
  }
  spent(owner: string, now: Date) {
    return this.budgets.get(this.key(owner, this.hour(now).start)) ?? 0;
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
  /** Rejects messages this predicate matches, as a queue rejects a body it cannot take. */
  rejects: (message: JobResult) => boolean = () => false;
  async send(message: JobResult) {
    if (this.rejects(message)) throw new Error('InvalidMessageContents: Invalid characters found');
    this.sent.push(message);
  }
}
