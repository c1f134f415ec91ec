import { ValidationError } from '@offload/errors';
import { listBatchJobsQuerySchema, toFieldProblems } from '@offload/messages';
import { httpApi, json } from '@offload/middleware';
import { batchStore } from '../adapters/batchStore';
import { listBatchJobsFor } from '../domain/manage';

const store = batchStore();

/** GET /batch-jobs?status=&limit=&cursor=: the caller's own batch jobs, newest first. */
export const handler = httpApi(async (event) => {
  const { caller } = event;
  const query = listBatchJobsQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw new ValidationError(toFieldProblems(query.error));
  const page = await listBatchJobsFor(store, caller.userId, query.data);
  return json(200, page, { 'cache-control': 'no-store' });
});
