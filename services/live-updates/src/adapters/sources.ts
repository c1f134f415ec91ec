import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { dynamo } from '@offload/aws/dynamodb';
import { batchJobSchema, batchJobUpdated, jobSchema, jobUpdated } from '@offload/messages';
import type { StateSource } from '../domain/live';

const SOURCE = 'live-updates.subscribe';
// Only what a job.updated carries: a job's result can be large and the client GETs it.
const jobState = z.pick(jobSchema, {
  job_id: true,
  owner: true,
  status: true,
  progress: true,
  updated_at: true,
  error: true,
  cancel_requested: true,
});

/**
 * The current state of a job (ai-jobs' table) or batch job (batch-poller's table), read where it
 * is kept rather than from a copy fed by events, so a subscribe right after a POST already finds
 * the job, and the owner check is made against the record itself.
 */
export function tableSources(tables: { jobs: string; batchJobs: string }): StateSource {
  return {
    async current(target) {
      if (target.kind === 'job') {
        const out = await dynamo.send(
          new GetCommand({
            TableName: tables.jobs,
            Key: { job_id: target.id },
            ConsistentRead: true,
            ProjectionExpression: 'job_id, #owner, #status, progress, updated_at, #error, cancel_requested',
            ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status', '#error': 'error' },
          }),
        );
        return out.Item ? jobUpdated(jobState.parse(out.Item), SOURCE) : undefined;
      }
      const out = await dynamo.send(
        new GetCommand({ TableName: tables.batchJobs, Key: { job_id: target.id }, ConsistentRead: true }),
      );
      return out.Item ? batchJobUpdated(batchJobSchema.parse(out.Item), SOURCE) : undefined;
    },
  };
}
