import { isTerminalItemStatus, type BatchItem, type BatchJob } from '@offload/messages';
import type { BatchProvider, BatchStore, ItemRequest, ProviderCheck } from '../../src/domain/batchJobs';
import type { BudgetLedger, BudgetWindow } from '../../src/domain/budget';
import type { BatchControls } from '../../src/domain/submit';
import { conditionFailed } from '@offload/testing/conditionFailed';

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
  const copy = structuredClone;
  const withoutActive = ({ active: _active, ...job }: BatchJob & { active?: boolean }): BatchJob => copy(job);
  const openJob = (jobId: string) => {
    const job = jobs.get(jobId);
    return job?.active ? job : undefined;
  };
  /** Writes to a job's counters, by job id. */
  const countWrites = new Map<string, number>();

  const store: BatchStore = {
    async createJob(job, newItems) {
      if (jobs.has(job.job_id)) throw conditionFailed();
      for (const item of newItems) items.set(key(item.job_id, item.item_id), copy(item));
      jobs.set(job.job_id, { ...copy(job), active: true });
    },
    async getJob(jobId) {
      const job = jobs.get(jobId);
      return job && withoutActive(job);
    },
    async listItems(jobId, limit, after) {
      const all = itemsOf(jobId).filter((i) => !after || i.item_id > after);
      const page = all.slice(0, limit).map((i) => copy(i));
      return { items: page, ...(all.length > limit && { next: page[page.length - 1]!.item_id }) };
    },
    async activeJobs() {
      return [...jobs.values()].filter((j) => j.active).map(withoutActive);
    },
    async openItems(jobId, limit) {
      return itemsOf(jobId)
        .filter((i) => !isTerminalItemStatus(i.status))
        .slice(0, limit)
        .map((i) => copy(i));
    },
    async allItems(jobId) {
      return itemsOf(jobId).map((i) => copy(i));
    },
    async claimItem(item, claim) {
      const current = items.get(key(item.job_id, item.item_id));
      if (!current) return undefined;
      const free =
        current.status === 'queued' ||
        (current.status === 'submitting' && (current.claimed_at ?? '') < claim.staleBefore);
      if (current.provider_task_id || !free) return undefined;
      Object.assign(current, {
        status: 'submitting',
        claim_token: claim.token,
        claimed_at: claim.now,
        updated_at: claim.now,
        submit_key: current.submit_key ?? claim.submitKey,
      });
      return copy(current);
    },
    async markSubmitted(item, token, providerTaskId, now) {
      const current = items.get(key(item.job_id, item.item_id));
      if (!current || current.status !== 'submitting' || current.claim_token !== token) return false;
      Object.assign(current, { status: 'validating', provider_task_id: providerTaskId, updated_at: now });
      delete current.claim_token;
      delete current.claimed_at;
      return true;
    },
    async releaseClaim(item, token, renewKey, now) {
      const current = items.get(key(item.job_id, item.item_id));
      if (!current || current.status !== 'submitting' || current.claim_token !== token) return;
      Object.assign(current, { status: 'queued', updated_at: now });
      delete current.claim_token;
      delete current.claimed_at;
      if (renewKey) delete current.submit_key;
    },
    async markProgress(item, status, now) {
      const current = items.get(key(item.job_id, item.item_id));
      if (!current || isTerminalItemStatus(current.status)) return;
      Object.assign(current, { status, updated_at: now, polls: current.polls + 1 });
    },
    async finishItem(item, outcome, now) {
      const current = items.get(key(item.job_id, item.item_id));
      if (!current || isTerminalItemStatus(current.status)) return false;
      Object.assign(current, {
        status: outcome.status,
        ...('result' in outcome ? { result: outcome.result } : { error: outcome.error }),
        ...(outcome.files.length > 0 && { cleanup_files: [...outcome.files] }),
        updated_at: now,
        completed_at: now,
        polls: current.polls + 1,
      });
      return true;
    },
    async pendingCleanups(limit) {
      return [...items.values()]
        .filter((i) => i.cleanup_files)
        .slice(0, limit)
        .map((i) => copy(i));
    },
    async clearCleanup(item) {
      const current = items.get(key(item.job_id, item.item_id));
      if (current) delete current.cleanup_files;
    },
    async countItems(jobId, { submitted = 0, succeeded = 0, failed = 0 }, now) {
      const job = openJob(jobId);
      if (!job || submitted + succeeded + failed === 0) return;
      countWrites.set(jobId, (countWrites.get(jobId) ?? 0) + 1);
      if (submitted > 0) job.status = 'running';
      Object.assign(job, {
        submitted_items: job.submitted_items + submitted,
        processed_items: job.processed_items + succeeded + failed,
        succeeded_items: job.succeeded_items + succeeded,
        failed_items: job.failed_items + failed,
        updated_at: now,
      });
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
        .map(withoutActive);
      const kept = mine.slice(0, page.limit);
      const last = mine.length > page.limit ? kept.at(-1) : undefined;
      return { jobs: kept, ...(last && { next: { created_at: last.created_at, job_id: last.job_id } }) };
    },
    async requestCancel(jobId, now) {
      const job = openJob(jobId);
      if (!job) return undefined;
      Object.assign(job, { cancel_requested: true, updated_at: now });
      return withoutActive(job);
    },
  };
  return { store, jobs, items, countWrites };
}

/**
 * A provider whose items move through scripted checks: each `check` of an item answers the next
 * entry of its script (the last one repeats). Unknown items answer the default script. Like the
 * real API with an Idempotency-Key, a submit with a submit key seen before answers the batch it
 * created then; `created` counts the batches really made.
 */
export function scriptedProvider(
  defaultScript: ProviderCheck[] = [{ status: 'succeeded', result: 'ok', files: [] }],
) {
  const scripts = new Map<string, ProviderCheck[]>();
  const submitted: ItemRequest[] = [];
  const created = new Map<string, string>();
  const checks = new Map<string, number>();
  const failSubmitFor = new Map<string, Error>();
  /** Item id -> how many of its next checks throw. */
  const failChecksFor = new Map<string, number>();
  const cancelled: string[] = [];
  const deleted: string[] = [];
  const failDeletes = { remaining: 0 };
  let batches = 0;
  const provider: BatchProvider = {
    async cancel(providerTaskId) {
      cancelled.push(providerTaskId);
      scripts.set(providerTaskId.split('_').pop()!, [
        { status: 'cancelling' },
        { status: 'cancelled', failure: new Error('The batch was cancelled'), files: [] },
      ]);
      checks.delete(providerTaskId);
    },
    async submit(request) {
      const refusal = failSubmitFor.get(request.itemId);
      if (refusal) throw refusal;
      submitted.push(request);
      const known = created.get(request.submitKey);
      if (known) return known;
      batches += 1;
      const id = `batch_${request.jobId.slice(0, 8)}_${batches}_${request.itemId}`;
      created.set(request.submitKey, id);
      return id;
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
    async deleteFile(fileId) {
      if (failDeletes.remaining > 0) {
        failDeletes.remaining -= 1;
        throw new Error(`500 deleting ${fileId}`);
      }
      deleted.push(fileId);
    },
  };
  return {
    provider,
    scripts,
    submitted,
    checks,
    failSubmitFor,
    failChecksFor,
    deleted,
    failDeletes,
    batchesCreated: () => batches,
    cancelled,
  };
}

/** Idempotency keys, rate tokens and item budgets in memory, with the adapters' rules. */
export function memoryControls(rate: { allowed: true } | { allowed: false; retryAfterSeconds: number }) {
  const keys = new Map<string, { jobId: string; bodyHash: string }>();
  // As the DynamoDB record: one per caller and day, holding the day's total and each hour's count.
  const usage = new Map<string, { day: number; hours: Map<number, number> }>();
  const controls: BatchControls = {
    async claimIdempotencyKey(owner, key, claim) {
      const id = JSON.stringify([owner, key]);
      const existing = keys.get(id);
      if (existing) return existing;
      keys.set(id, claim);
      return undefined;
    },
    async releaseIdempotencyKey(owner, key) {
      keys.delete(JSON.stringify([owner, key]));
    },
    async takeRateToken() {
      return rate;
    },
  };
  const slot = (owner: string, window: BudgetWindow) => JSON.stringify([owner, window.day]);
  const usedIn = (owner: string, window: BudgetWindow) => {
    const record = usage.get(slot(owner, window));
    return { day: record?.day ?? 0, hour: record?.hours.get(window.hour) ?? 0 };
  };
  const add = (owner: string, window: BudgetWindow, count: number) => {
    const record = usage.get(slot(owner, window)) ?? { day: 0, hours: new Map<number, number>() };
    record.day += count;
    record.hours.set(window.hour, (record.hours.get(window.hour) ?? 0) + count);
    usage.set(slot(owner, window), record);
  };
  const budget: BudgetLedger = {
    async charge(owner, window, count, limits) {
      const used = usedIn(owner, window);
      if (used.day + count > limits.itemsPerDay || used.hour + count > limits.itemsPerHour) {
        return { charged: false, used };
      }
      add(owner, window, count);
      return { charged: true };
    },
    async refund(owner, window, count) {
      if (usage.has(slot(owner, window))) add(owner, window, -count);
    },
  };
  return { controls, budget, keys, usage, usedIn };
}
