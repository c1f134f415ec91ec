import { isTerminalItemStatus, type BatchItem, type BatchJob } from '@offload/messages';
import type { BatchProvider, BatchStore, ItemRequest, ProviderCheck } from '../../src/domain/batchJobs';

/**
 * In-memory stand-ins for unit tests only: the store keeps the same conditional rules as the
 * DynamoDB adapter (terminal items never change, counters move only while a job is open).
 */
export function memoryStore() {
  const jobs = new Map<string, BatchJob & { active?: boolean }>();
  const items = new Map<string, BatchItem>();
  const key = (jobId: string, itemId: string) => `${jobId}/${itemId}`;
  const itemsOf = (jobId: string) =>
    [...items.values()].filter((i) => i.job_id === jobId).sort((a, b) => a.item_id.localeCompare(b.item_id));
  const openJob = (jobId: string) => {
    const job = jobs.get(jobId);
    return job?.active ? job : undefined;
  };

  const store: BatchStore = {
    async createJob(job, newItems) {
      for (const item of newItems) items.set(key(item.job_id, item.item_id), { ...item });
      jobs.set(job.job_id, { ...job, active: true });
    },
    async getJob(jobId) {
      const job = jobs.get(jobId);
      if (!job) return undefined;
      const { active: _active, ...rest } = job;
      return { ...rest };
    },
    async listItems(jobId, limit, after) {
      const all = itemsOf(jobId).filter((i) => !after || i.item_id > after);
      const page = all.slice(0, limit);
      return { items: page, ...(all.length > limit && { next: page[page.length - 1]!.item_id }) };
    },
    async activeJobs() {
      return [...jobs.values()].filter((j) => j.active).map(({ active: _a, ...job }) => ({ ...job }));
    },
    async openItems(jobId, limit) {
      return itemsOf(jobId)
        .filter((i) => !isTerminalItemStatus(i.status))
        .slice(0, limit)
        .map((i) => ({ ...i }));
    },
    async allItems(jobId) {
      return itemsOf(jobId).map((i) => ({ ...i }));
    },
    async markSubmitted(item, providerTaskId, now) {
      const current = items.get(key(item.job_id, item.item_id))!;
      if (current.status !== 'queued' || current.provider_task_id) return false;
      Object.assign(current, { status: 'validating', provider_task_id: providerTaskId, updated_at: now });
      return true;
    },
    async markProgress(item, status, now) {
      const current = items.get(key(item.job_id, item.item_id))!;
      if (isTerminalItemStatus(current.status)) return;
      Object.assign(current, { status, updated_at: now, polls: current.polls + 1 });
    },
    async finishItem(item, outcome, now) {
      const current = items.get(key(item.job_id, item.item_id))!;
      if (isTerminalItemStatus(current.status)) return false;
      Object.assign(current, {
        status: outcome.status,
        ...('result' in outcome ? { result: outcome.result } : { error: outcome.error }),
        updated_at: now,
        completed_at: now,
        polls: current.polls + 1,
      });
      return true;
    },
    async countSubmitted(jobId, count, now) {
      const job = openJob(jobId);
      if (job)
        Object.assign(job, {
          status: 'running',
          submitted_items: job.submitted_items + count,
          updated_at: now,
        });
    },
    async countFinished(jobId, outcome, now) {
      const job = openJob(jobId);
      if (!job) return;
      job.processed_items += 1;
      if (outcome === 'succeeded') job.succeeded_items += 1;
      else job.failed_items += 1;
      job.updated_at = now;
    },
    async resolveJob(jobId, status, totals, now) {
      const job = openJob(jobId);
      if (!job) return false;
      Object.assign(job, { status, ...totals, updated_at: now, completed_at: now, active: false });
      return true;
    },
    async listByOwner(owner, page) {
      const key = (j: Pick<BatchJob, 'created_at' | 'job_id'>) => `${j.created_at}#${j.job_id}`;
      const mine = [...jobs.values()]
        .filter((j) => j.owner === owner && (!page.status || j.status === page.status))
        .filter((j) => !page.after || key(j) < key(page.after))
        .sort((a, b) => key(b).localeCompare(key(a)))
        .map(({ active: _a, ...job }) => ({ ...job }));
      const kept = mine.slice(0, page.limit);
      const last = mine.length > page.limit ? kept.at(-1) : undefined;
      return { jobs: kept, ...(last && { next: { created_at: last.created_at, job_id: last.job_id } }) };
    },
    async requestCancel(jobId, now) {
      const job = openJob(jobId);
      if (!job) return undefined;
      Object.assign(job, { cancel_requested: true, updated_at: now });
      const { active: _a, ...rest } = job;
      return { ...rest };
    },
  };
  return { store, jobs, items };
}

/**
 * A provider whose items move through scripted checks: each `check` of an item answers the next
 * entry of its script (the last one repeats). Unknown items answer the default script.
 */
export function scriptedProvider(defaultScript: ProviderCheck[] = [{ status: 'succeeded', result: 'ok' }]) {
  const scripts = new Map<string, ProviderCheck[]>();
  const submitted: ItemRequest[] = [];
  const checks = new Map<string, number>();
  const failSubmitFor = new Set<string>();
  /** Item id -> how many of its next checks throw. */
  const failChecksFor = new Map<string, number>();
  const cancelled: string[] = [];
  const provider: BatchProvider = {
    async cancel(providerTaskId) {
      cancelled.push(providerTaskId);
      scripts.set(providerTaskId.split('_').pop()!, [
        { status: 'cancelling' },
        { status: 'cancelled', error: 'The batch was cancelled' },
      ]);
      checks.delete(providerTaskId);
    },
    async submit(request) {
      if (failSubmitFor.has(request.itemId)) throw new Error(`submit refused for ${request.itemId}`);
      submitted.push(request);
      return `batch_${request.jobId.slice(0, 8)}_${request.itemId}`;
    },
    async check(providerTaskId) {
      const itemId = providerTaskId.split('_').pop()!;
      const script = scripts.get(itemId) ?? defaultScript;
      const n = checks.get(providerTaskId) ?? 0;
      checks.set(providerTaskId, n + 1);
      const failures = failChecksFor.get(itemId) ?? 0;
      if (failures > 0) {
        failChecksFor.set(itemId, failures - 1);
        throw new Error(`429 Rate limit reached for ${itemId}`);
      }
      return script[Math.min(n, script.length - 1)]!;
    },
  };
  return { provider, scripts, submitted, checks, failSubmitFor, failChecksFor, cancelled };
}
