import * as z from 'zod/mini';
import { envelope } from './envelope';
import { publicFailureSchema, storedFailureSchema } from './failure';
import { line, text } from './text';

export const JOB_BODY_MAX_BYTES = 32 * 1024;
export const JOB_TOPIC_MAX = 2000;
export const JOB_PROMPT_MAX = 8000;
/** `rounds` when a multi-agent job leaves it out (seed 000's own example does). */
export const DEFAULT_ROUNDS = 3;

const multiAgentConfig = z.strictObject({
  topic: text(JOB_TOPIC_MAX),
  agents: z.number().check(z.int(), z.gte(1, 'must be at least 1'), z.lte(20, 'must be at most 20')),
  rounds: z._default(
    z.number().check(z.int(), z.gte(1, 'must be at least 1'), z.lte(10, 'must be at most 10')),
    DEFAULT_ROUNDS,
  ),
});

/** POST /jobs body: the job type picks the config schema. */
export const createJobBodySchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('simulation'), config: multiAgentConfig }),
    z.strictObject({ type: z.literal('panel'), config: multiAgentConfig }),
    z.strictObject({ type: z.literal('discussion'), config: multiAgentConfig }),
    z.strictObject({
      type: z.literal('completion'),
      config: z.strictObject({
        prompt: text(JOB_PROMPT_MAX),
        system: z.optional(line(2000)),
      }),
    }),
  ],
  { error: 'must be one of simulation, panel, discussion, completion' },
);
export type CreateJobBody = z.infer<typeof createJobBodySchema>;
export type JobType = CreateJobBody['type'];
export type MultiAgentConfig = z.infer<typeof multiAgentConfig>;

export const jobStatusSchema = z.enum(['queued', 'processing', 'succeeded', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof jobStatusSchema>;
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export const jobPrioritySchema = z.enum(['normal', 'high']);
export type JobPriority = z.infer<typeof jobPrioritySchema>;

/** A job as stored. `owner` never leaves the service; the API view drops it. */
export const jobSchema = z.object({
  job_id: z.uuid(),
  owner: z.string(),
  type: z.enum(['simulation', 'panel', 'discussion', 'completion']),
  config: z.record(z.string(), z.unknown()),
  priority: jobPrioritySchema,
  status: jobStatusSchema,
  progress: z.number().check(z.gte(0), z.lte(1)),
  attempts: z.number().check(z.int(), z.nonnegative()),
  /** Times the sweeper published a job stuck `queued` again. */
  republished: z.optional(z.number().check(z.int(), z.nonnegative())),
  result: z.optional(z.unknown()),
  /** Public code and message only (publicFailureOf); the cause chain stays in the logs. */
  error: z.optional(storedFailureSchema),
  /** Set by DELETE /jobs/{id} on a processing job: the processor stops before its next LLM step. */
  cancel_requested: z.optional(z.boolean()),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  started_at: z.optional(z.iso.datetime()),
  completed_at: z.optional(z.iso.datetime()),
});
export type Job = z.infer<typeof jobSchema>;

export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 100;

/** Query of the list routes (`GET /jobs`, `GET /batch-jobs`); `cursor` is opaque to the caller. */
export const listQuerySchema = <Status extends z.ZodMiniType>(status: Status) =>
  z.object({
    status: z.optional(status),
    limit: z._default(
      z.coerce
        .number('must be a number')
        .check(
          z.int('must be an integer'),
          z.gte(1, 'must be at least 1'),
          z.lte(LIST_LIMIT_MAX, `must be at most ${LIST_LIMIT_MAX}`),
        ),
      LIST_LIMIT_DEFAULT,
    ),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  });
export const listJobsQuerySchema = listQuerySchema(jobStatusSchema);
export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

/** Published to the jobs topic; SNS delivers it raw to the request queue its priority selects. */
export const jobRequestedV1 = envelope(
  'job.requested',
  '1',
  z.object({ job_id: z.uuid(), job: createJobBodySchema, priority: jobPrioritySchema }),
);
export type JobRequestedV1 = z.infer<typeof jobRequestedV1>;
export const jobRequested = jobRequestedV1;
export type JobRequested = z.infer<typeof jobRequested>;

/** A job's final state in a `job.result` message; the versions differ only in a failure's `error`. */
const jobResultData = <ErrorSchema extends z.ZodMiniType>(error: ErrorSchema) =>
  z.discriminatedUnion('status', [
    z.object({
      job_id: z.uuid(),
      status: z.literal('succeeded'),
      result: z.unknown(),
      finished_at: z.iso.datetime(),
    }),
    z.object({ job_id: z.uuid(), status: z.literal('failed'), error, finished_at: z.iso.datetime() }),
  ]);

/** Sent by the processor to the response queue; the result recorder writes the final state. */
export const jobResultV1 = envelope('job.result', '1', jobResultData(z.string()));
export type JobResultV1 = z.infer<typeof jobResultV1>;

/** v2: a failed result carries the public failure ({code, message}), never the internal chain. */
export const jobResultV2 = envelope('job.result', '2', jobResultData(publicFailureSchema));
export type JobResultV2 = z.infer<typeof jobResultV2>;
/** Every version the recorder accepts; processors send v2. */
export const jobResult = z.union([jobResultV1, jobResultV2]);
export type JobResult = z.infer<typeof jobResult>;
/** A job's final state as the store writes it. */
export type JobOutcome = JobResultV2['data'];
