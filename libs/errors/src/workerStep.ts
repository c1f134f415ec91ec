import { NotFoundYetError, publicFailureOf, type PublicFailure } from './index';

/**
 * One record a worker processes once, however often its message is delivered. Each step is the
 * domain's own (a conditional write, the work, the failure record); processOnce owns the order
 * and what a failure means, so every worker retries, gives up and records failures alike.
 */
export interface WorkerStep<Claimed, Outcome> {
  /** Names the record in the retry error, e.g. `Task 42`. */
  record: string;
  /** Claims the record for this attempt (a conditional write); undefined when it is finished or missing. */
  start(): Promise<Claimed | undefined>;
  /** Asked only when start claimed nothing: a record that exists is finished, a missing one is not written yet. */
  exists(): Promise<boolean>;
  /** What processOnce returns for a record another delivery already finished. */
  alreadyDone: Outcome;
  /** The work and its result's write. Throwing means "retry me". */
  work(claimed: Claimed): Promise<Outcome>;
  /** Records the public failure on the queue's last attempt, before the error goes on to the DLQ. */
  fail(claimed: Claimed, failure: PublicFailure): Promise<unknown>;
}

/** Where this delivery stands in the queue's redrive policy (the SQS record context has it). */
export interface Attempt {
  isLastAttempt: boolean;
}

/**
 * start (claim) -> already done, or not written yet (NotFoundYetError: retry, the write may still
 * land) -> work -> on failure, mark the record failed with its public failure (publicFailureOf)
 * when this is the last attempt, then rethrow so the queue retries or dead-letters the message
 * with the whole cause chain.
 */
export async function processOnce<Claimed, Outcome>(
  step: WorkerStep<Claimed, Outcome>,
  attempt: Attempt,
): Promise<Outcome> {
  const claimed = await step.start();
  if (claimed === undefined) {
    if (!(await step.exists())) throw new NotFoundYetError(`${step.record} has no record`);
    return step.alreadyDone;
  }
  try {
    return await step.work(claimed);
  } catch (error) {
    if (attempt.isLastAttempt) await step.fail(claimed, publicFailureOf(error));
    throw error;
  }
}
