import { ValidationError } from '@offload/errors';
import { listJobsQuerySchema, toFieldProblems } from '@offload/messages';
import { httpApi, identify, json, parseCallers } from '@offload/middleware';
import { dynamoJobStore } from '../adapters/dynamoJobStore';
import { callerConfig, tables } from '../config';
import { listJobsFor } from '../domain/manage';

const config = { ...tables(), ...callerConfig() };
const callers = parseCallers(config.API_KEYS);
const store = dynamoJobStore(config.JOBS_TABLE_NAME);

/** GET /jobs?status=&limit=&cursor=: the caller's own jobs, newest first, a page at a time. */
export const handler = httpApi(async (event) => {
  const caller = identify(callers, event.headers);
  const query = listJobsQuerySchema.safeParse(event.queryStringParameters ?? {});
  if (!query.success) throw new ValidationError(toFieldProblems(query.error));
  const page = await listJobsFor(store, caller, query.data);
  return json(200, page, { 'cache-control': 'no-store' });
});
