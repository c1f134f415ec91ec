import * as z from 'zod/mini';
import { ValidationError } from '@offload/errors';
import { toFieldProblems } from '@offload/messages';
import { httpApi, json } from '@offload/middleware';
import { batchStore } from '../adapters/batchStore';
import { getJobFor, itemView } from '../domain/batchJobs';

const store = batchStore();
const query = z.strictObject({
  id: z.uuid('must be a UUID'),
  limit: z._default(
    z.coerce.number().check(z.int(), z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')),
    50,
  ),
  after: z.optional(z.string().check(z.regex(/^\d{4}$/, 'must be an item_id from a previous page'))),
});

/** GET /batch-jobs/{id}/items?limit=&after=: the job's items in order, one page at a time. */
export const handler = httpApi(async (event) => {
  const parsed = query.safeParse({ ...event.queryStringParameters, id: event.pathParameters?.id });
  if (!parsed.success) throw new ValidationError(toFieldProblems(parsed.error));
  const { id, limit, after } = parsed.data;
  await getJobFor(store, id, event.caller.userId);
  const page = await store.listItems(id, limit, after);
  return json(200, { items: page.items.map(itemView), ...(page.next && { next_after: page.next }) });
});
