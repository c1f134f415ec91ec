import { ValidationError } from '@offload/errors';
import { listBatchJobsQuerySchema, toFieldProblems } from '@offload/messages';
import { httpApi, identify, json, parseCallers } from '@offload/middleware';
import { dynamoBatchStore } from '../adapters/dynamoBatchStore';
import { unreadableReporter } from '../adapters/unreadable';
import { callerConfig, tables } from '../config';
import { listBatchJobsFor } from '../domain/manage';

const config = { ...tables(), ...callerConfig() };
const callers = parseCallers(config.API_KEYS);
const store = dynamoBatchStore(
  config.BATCH_JOBS_TABLE_NAME,
  config.BATCH_ITEMS_TABLE_NAME,
  unreadableReporter().report,
);

/** GET /batch-jobs?status=&limit=&cursor=: the caller's own batch jobs, newest first. */
export const handler = httpApi(async (event) => {
  const caller = identify(callers, event.headers);
  const query = listBatchJobsQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw new ValidationError(toFieldProblems(query.error));
  const page = await listBatchJobsFor(store, caller.userId, query.data);
  return json(200, page, { 'cache-control': 'no-store' });
});
