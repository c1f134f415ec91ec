import { INTERNAL_FAILURE, NotFoundYetError, PublicFailureError, type PublicFailure } from './index';
import { processOnce, type WorkerStep } from './workerStep';

type State = 'missing' | 'queued' | 'processing' | 'done' | 'failed';

/** One record in memory with the transitions a store makes by conditional writes. */
function record(initial: State, work: () => Promise<string>) {
  const seen = { state: initial, failure: undefined as PublicFailure | undefined, worked: 0 };
  const step: WorkerStep<{ id: string }, string> = {
    record: 'Thing 7',
    start: async () => {
      if (seen.state !== 'queued' && seen.state !== 'processing') return undefined;
      seen.state = 'processing';
      return { id: '7' };
    },
    exists: async () => seen.state !== 'missing',
    alreadyDone: 'already-done',
    work: async () => {
      seen.worked += 1;
      const result = await work();
      seen.state = 'done';
      return result;
    },
    fail: async (_claimed, failure) => {
      seen.state = 'failed';
      seen.failure = failure;
    },
  };
  return { seen, step };
}

const ok = async () => 'worked';
const broken = (error: Error) => async () => {
  throw error;
};

describe('processOnce', () => {
  it('claims the record, does the work once and returns its outcome', async () => {
    const { seen, step } = record('queued', ok);
    await expect(processOnce(step, { isLastAttempt: false })).resolves.toBe('worked');
    expect(seen).toEqual({ state: 'done', failure: undefined, worked: 1 });
  });

  it('picks up a record left processing by an interrupted attempt', async () => {
    const { seen, step } = record('processing', ok);
    await expect(processOnce(step, { isLastAttempt: false })).resolves.toBe('worked');
    expect(seen.worked).toBe(1);
  });

  it.each<State>(['done', 'failed'])('leaves a %s record alone', async (state) => {
    const { seen, step } = record(state, ok);
    await expect(processOnce(step, { isLastAttempt: true })).resolves.toBe('already-done');
    expect(seen).toEqual({ state, failure: undefined, worked: 0 });
  });

  it('throws the retry error, naming the record, when it is not written yet', async () => {
    const { seen, step } = record('missing', ok);
    const attempt = processOnce(step, { isLastAttempt: true });
    await expect(attempt).rejects.toBeInstanceOf(NotFoundYetError);
    await expect(attempt).rejects.toThrow('Thing 7 has no record');
    expect(seen.worked).toBe(0);
  });

  it('rethrows a failure without marking the record before the last attempt', async () => {
    const error = new Error('provider down');
    const { seen, step } = record('queued', broken(error));
    await expect(processOnce(step, { isLastAttempt: false })).rejects.toBe(error);
    expect(seen).toEqual({ state: 'processing', failure: undefined, worked: 1 });
  });

  it('marks the record failed with the public failure on the last attempt, then rethrows', async () => {
    const internal = new Error('arn:aws:iam::123456789012 denied');
    const { seen, step } = record('queued', broken(internal));
    await expect(processOnce(step, { isLastAttempt: true })).rejects.toBe(internal);
    expect(seen).toMatchObject({ state: 'failed', failure: INTERNAL_FAILURE });

    const timedOut = new PublicFailureError('timed_out', 'Too slow', { cause: internal });
    const second = record('queued', broken(timedOut));
    await expect(processOnce(second.step, { isLastAttempt: true })).rejects.toBe(timedOut);
    expect(second.seen.failure).toEqual({ code: 'timed_out', message: 'Too slow' });
  });
});
