import type { Clock } from '@offload/config';
import type { ChatMessage, Llm } from '@offload/llm';
import {
  ConflictError,
  type Attempt,
  type FieldProblem,
  NotFoundError,
  OffloadError,
  PoisonMessageError,
  processOnce,
  PublicFailureError,
  publicFailureOf,
  ValidationError,
} from '@offload/errors';
import {
  addDays,
  PODCAST_MAX_FREQUENCY_DAYS,
  podcastDateWindow,
  type CreatePodcastBody,
  type Episode,
  type EpisodeProcessingV1,
  type Podcast,
  type PodcastGenerationV1,
} from '@offload/messages';

export { addDays };

/** A stored record the reader could not use (it failed to parse, or holds a date out of the window). */
export interface UnreadableRecord {
  /** The record's table key, for finding and fixing it. */
  key: string;
  /** What is wrong with it: field names and problems, never the values. */
  reason: string;
}

/** A read over many records: those that parsed, and those that did not, so one cannot stop the rest. */
export interface Listing<Item> {
  items: Item[];
  unreadable: UnreadableRecord[];
}

/** A single read found a record that does not parse; listings report these instead of throwing. */
export class UnreadableRecordError extends OffloadError {
  constructor(readonly record: UnreadableRecord) {
    super(`Record ${record.key} is unreadable: ${record.reason}`);
  }
}

export interface PodcastStore {
  create(podcast: Podcast): Promise<void>;
  /** Throws UnreadableRecordError for a record that does not parse. */
  get(podcastId: string): Promise<Podcast | undefined>;
  /** Podcasts whose next episode date is on or before `today`, read through an index. */
  listDue(today: string, max: number): Promise<Listing<Podcast>>;
  /** Moves latestEpisodeDate from `from` to `to`; false if it had already moved. */
  advance(
    podcastId: string,
    from: string,
    to: string,
    nextEpisodeDate: string,
    now: string,
  ): Promise<boolean>;
}

export interface EpisodeStore {
  /** Creates the episode unless one with its id exists; false if it existed. */
  createIfAbsent(episode: Episode): Promise<boolean>;
  get(episodeId: string): Promise<Episode | undefined>;
  listByPodcast(podcastId: string): Promise<Episode[]>;
  /** Episodes in `pending`, read through an index. */
  listPending(max: number): Promise<Listing<Episode>>;
  /** Episodes in `processing` whose last write is older than `updatedBefore`, through the same index. */
  listStaleProcessing(updatedBefore: string, max: number): Promise<Listing<Episode>>;
  /**
   * Claims a stale `processing` episode for one more round: sets updatedAt to `now` only if it is
   * still `processing` with the updatedAt the caller saw; false if anything wrote it since.
   */
  reclaim(episodeId: string, seenUpdatedAt: string, now: string): Promise<boolean>;
  /** processing (with the updatedAt the caller saw) -> failed with `error`; false if it moved on. */
  failStale(episodeId: string, seenUpdatedAt: string, error: Episode['error'], now: string): Promise<boolean>;
  /** pending|processing -> processing, counting the attempt; undefined if in neither state. */
  start(episodeId: string, now: string): Promise<Episode | undefined>;
  /** processing -> processed|failed; false if it had already left `processing`. */
  finish(
    episodeId: string,
    changes: Pick<Episode, 'status'> & Partial<Episode>,
    now: string,
  ): Promise<boolean>;
}

/**
 * The most records one publisher run reads from an index: a backlog larger than this is worked off
 * over several runs instead of one run outgrowing its memory and timeout.
 */
export const MAX_RECORDS_PER_RUN = 1000;

export interface SendSummary {
  sent: number;
  failed: number;
  batches: number;
}

export interface Publisher<Message> {
  /** Sends in SendMessageBatch calls of 10. */
  send(messages: Message[]): Promise<SendSummary>;
}

/** GET of a podcast whose stored record cannot be read: a clean answer, not a 500. */
export class PodcastUnreadableError extends ConflictError {
  constructor(options?: { cause?: unknown }) {
    super(
      'podcast_unreadable',
      'This podcast is stored with a schedule that cannot be read, so it is not being scheduled; quote its id when you report it',
      options,
    );
  }
}

/** Episode work ran out of its invocation's time: stopped before Lambda kills it, with a public reason. */
export class EpisodeTimedOutError extends PublicFailureError {
  constructor(options?: { cause?: unknown }) {
    super('timed_out', 'Processing did not finish within its time limit', options);
  }
}

const todayOf = (clock: Clock) => clock.now().toISOString().slice(0, 10);

const outside = (date: string, from: string, to: string) => date < from || date > to;

/**
 * What makes a podcast's schedule unusable on `today`, or undefined if it is fine: a date outside
 * the window (see podcastDateWindow) or a frequency out of bounds. Names fields, never values.
 */
export function scheduleProblem(
  podcast: Pick<Podcast, 'frequency' | 'latestEpisodeDate' | 'nextEpisodeDate'>,
  today: string,
): FieldProblem | undefined {
  const window = podcastDateWindow(today);
  if (podcast.frequency < 1 || podcast.frequency > PODCAST_MAX_FREQUENCY_DAYS)
    return { field: 'frequency', message: `is outside 1..${PODCAST_MAX_FREQUENCY_DAYS}` };
  if (outside(podcast.latestEpisodeDate, window.earliest, window.latest))
    return { field: 'latestEpisodeDate', message: `is outside ${window.earliest}..${window.latest}` };
  if (outside(podcast.nextEpisodeDate, window.earliest, window.latestNext))
    return { field: 'nextEpisodeDate', message: `is outside ${window.earliest}..${window.latestNext}` };
  return undefined;
}

const describeProblem = (problem: FieldProblem) => `${problem.field} ${problem.message}`;

/**
 * The body schema already bounds these; the domain checks again so that no path can write a
 * record the scheduler cannot read back.
 */
export function newPodcast(body: CreatePodcastBody, podcastId: string, now: string, owner: string): Podcast {
  const podcast: Podcast = {
    podcastId,
    owner,
    title: body.title,
    frequency: body.frequency,
    latestEpisodeDate: body.latest_episode_date,
    nextEpisodeDate: addDays(body.latest_episode_date, body.frequency),
    createdAt: now,
    updatedAt: now,
  };
  const problem = scheduleProblem(podcast, now.slice(0, 10));
  // nextEpisodeDate is derived: the caller fixes it through latest_episode_date, the body's name.
  if (problem)
    throw new ValidationError([
      {
        field: problem.field === 'frequency' ? 'frequency' : 'latest_episode_date',
        message: problem.message,
      },
    ]);
  return podcast;
}

export async function getPodcastWithEpisodes(
  podcasts: PodcastStore,
  episodes: EpisodeStore,
  podcastId: string,
  owner: string,
) {
  let found: Podcast | undefined;
  try {
    found = await podcasts.get(podcastId);
  } catch (error) {
    if (error instanceof UnreadableRecordError) throw new PodcastUnreadableError({ cause: error });
    throw error;
  }
  // Another caller's podcast is indistinguishable from a missing one.
  if (!found || found.owner !== owner) throw new NotFoundError(`Podcast ${podcastId} not found`);
  const { owner: _owner, ...podcast } = found;
  const list = await episodes.listByPodcast(podcastId);
  return { ...podcast, episodes: list.sort((a, b) => a.episodeDate.localeCompare(b.episodeDate)) };
}

export interface PublishReport extends SendSummary {
  /** Every record the run looked at: sent + failed + skipped. */
  found: number;
  /** Unreadable records left alone (see `unreadable` in the run). */
  skipped: number;
}

/** A publisher run: the counts a caller sees, and the unreadable records for the logs and the metric. */
export interface PublishRun {
  report: PublishReport;
  unreadable: UnreadableRecord[];
}

/**
 * The most periods a late podcast is caught up one episode per run. Further behind (a long outage,
 * or an old latestEpisodeDate), it skips the missed episodes and gets only the most recent due one,
 * so no record keeps the scheduler busy for more than this many runs.
 */
export const MAX_CATCH_UP_PERIODS = 3;

const DAY_MS = 86_400_000;
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

/**
 * The date of the episode a generation message asks for, on `today`: normally the first due date
 * after latestEpisodeDate; when more than MAX_CATCH_UP_PERIODS further dates are also due, the
 * most recent due date instead, computed, not stepped to.
 */
export function dueEpisodeDate(latestEpisodeDate: string, frequency: number, today: string): string {
  const first = addDays(latestEpisodeDate, frequency);
  const alsoDue = Math.floor(daysBetween(first, today) / frequency);
  return alsoDue < MAX_CATCH_UP_PERIODS ? first : addDays(first, alsoDue * frequency);
}

/**
 * The podcast scheduler: only discovers due podcasts and publishes one versioned
 * `podcast_generation` message each. It generates nothing; a podcast whose message failed to send
 * is still due and is found again next run. `traceId` (the run's correlation id) goes into every
 * message, so the generator's lines for them carry it.
 */
export async function schedulePodcasts(
  deps: {
    podcasts: PodcastStore;
    publisher: Publisher<PodcastGenerationV1>;
    clock: Clock;
  },
  traceId?: string,
): Promise<PublishRun> {
  const today = todayOf(deps.clock);
  const listing = await deps.podcasts.listDue(today, MAX_RECORDS_PER_RUN);
  const unreadable = [...listing.unreadable];
  const due: Podcast[] = [];
  for (const podcast of listing.items) {
    const problem = scheduleProblem(podcast, today);
    if (problem) unreadable.push({ key: podcast.podcastId, reason: describeProblem(problem) });
    else due.push(podcast);
  }
  const summary = await deps.publisher.send(
    due.map((podcast) => ({
      version: '1.0',
      type: 'podcast_generation',
      data: {
        podcastId: podcast.podcastId,
        title: podcast.title,
        frequency: podcast.frequency,
        latestEpisodeDate: podcast.latestEpisodeDate,
      },
      metadata: { retryCount: 0, source: 'podcast_scheduler', ...(traceId && { traceId }) },
    })),
  );
  return {
    report: { found: due.length + unreadable.length, ...summary, skipped: unreadable.length },
    unreadable,
  };
}

export interface CheckOptions {
  /** A `processing` episode with no write for this long has lost its invocation. */
  staleAfterMs: number;
  /** A stale episode with this many attempts is failed instead of being tried again. */
  maxAttempts: number;
}

export interface CheckReport extends PublishReport {
  /** Stale `processing` episodes claimed and sent again (counted in `found` and `sent` too). */
  reclaimed: number;
  /** Stale `processing` episodes out of attempts, ended `failed` with `timed_out`. */
  expired: number;
}

/**
 * The episode checker: finds `pending` episodes and publishes one `episode_processing` each. Each
 * message carries the traceId of the scheduler run that created its episode (so one id follows an
 * episode from schedule to `processed`), or this run's for episodes created without one.
 *
 * It also picks up episodes left `processing` by an invocation that died (out of memory, killed at
 * its timeout): one with no write for `staleAfterMs` is claimed by a conditional write (so two runs
 * never both take it) and sent again, or, once it has had `maxAttempts`, ended `failed` with
 * `timed_out`. Either way it never stays `processing`.
 */
export async function checkEpisodes(
  deps: {
    episodes: EpisodeStore;
    publisher: Publisher<EpisodeProcessingV1>;
    clock: Clock;
  },
  options: CheckOptions,
  traceId?: string,
): Promise<PublishRun & { report: CheckReport }> {
  const now = deps.clock.now();
  const timestamp = now.toISOString();
  const pending = await deps.episodes.listPending(MAX_RECORDS_PER_RUN);
  const stale = await deps.episodes.listStaleProcessing(
    new Date(now.getTime() - options.staleAfterMs).toISOString(),
    MAX_RECORDS_PER_RUN,
  );
  const toSend = [...pending.items];
  let reclaimed = 0;
  let expired = 0;
  for (const episode of stale.items) {
    if (episode.attempts >= options.maxAttempts) {
      const failure = publicFailureOf(new EpisodeTimedOutError());
      if (await deps.episodes.failStale(episode.episodeId, episode.updatedAt, failure, timestamp))
        expired += 1;
    } else if (await deps.episodes.reclaim(episode.episodeId, episode.updatedAt, timestamp)) {
      reclaimed += 1;
      toSend.push({ ...episode, updatedAt: timestamp });
    }
  }
  const summary = await deps.publisher.send(
    toSend.map((episode) => {
      const trace = episode.traceId ?? traceId;
      return {
        version: '1.0',
        type: 'episode_processing',
        data: {
          episodeId: episode.episodeId,
          podcastId: episode.podcastId,
          status: episode.status,
          timestamp,
        },
        metadata: { retryCount: 0, source: 'episode_checker', ...(trace && { traceId: trace }) },
      };
    }),
  );
  const unreadable = [...pending.unreadable, ...stale.unreadable];
  return {
    report: {
      found: pending.items.length + stale.items.length + unreadable.length,
      ...summary,
      skipped: unreadable.length,
      reclaimed,
      expired,
    },
    unreadable,
  };
}

/** One episode per podcast and due date, whoever asks and however often. */
export const episodeIdFor = (podcastId: string, episodeDate: string) => `${podcastId}_${episodeDate}`;

export type GenerateOutcome = 'created' | 'already-generated';

/**
 * The time worker code may spend in an invocation with `remainingMs` left: a margin (10%, 1-10 s)
 * stays for recording the outcome and reporting the batch, so slow work ends with a reason
 * instead of being killed without one.
 */
export function workBudgetMs(remainingMs: number): number {
  return remainingMs - Math.min(10_000, Math.max(1000, remainingMs * 0.1));
}

/** When the work's time is up, as a Date.now() instant; Infinity means no limit. */
export const deadlineAfter = (budgetMs = Number.POSITIVE_INFINITY) => Date.now() + budgetMs;

/**
 * One LLM call within the deadline: its signal aborts the request (and the SDK's retries) when the
 * time is up, and the race ends the wait even for an Llm that ignores the signal.
 */
async function completeBy(llm: Llm, messages: ChatMessage[], deadline: number): Promise<string> {
  if (!Number.isFinite(deadline)) return llm.complete(messages);
  const leftMs = deadline - Date.now();
  if (leftMs <= 0) throw new EpisodeTimedOutError();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new EpisodeTimedOutError();
      controller.abort(error);
      reject(error);
    }, leftMs);
  });
  try {
    return await Promise.race([llm.complete(messages, { signal: controller.signal }), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The podcast generator: creates the due episode (`pending`, script from the LLM) and advances
 * the podcast. Idempotent: the episode id is derived from the podcast and its due date, so a
 * redelivered or duplicate message finds the episode and creates no second one.
 *
 * The due date is dueEpisodeDate's: a podcast far behind jumps to its most recent due date. That
 * date depends on the day, so a jumping message first checks that the podcast has not moved on
 * (a redelivery on a later day would otherwise create a second episode for another date).
 */
export async function generateEpisode(
  deps: { podcasts: PodcastStore; episodes: EpisodeStore; llm: Llm; clock: Clock },
  message: PodcastGenerationV1,
  attempt: { budgetMs?: number } = {},
): Promise<GenerateOutcome> {
  const deadline = deadlineAfter(attempt.budgetMs);
  const { podcastId, title, frequency, latestEpisodeDate } = message.data;
  const today = todayOf(deps.clock);
  const episodeDate = dueEpisodeDate(latestEpisodeDate, frequency, today);
  const nextEpisodeDate = addDays(episodeDate, frequency);
  const problem = scheduleProblem(
    { frequency, latestEpisodeDate: episodeDate, nextEpisodeDate },
    // The episode date is due, so at most today; the window is checked as of today.
    today,
  );
  if (problem)
    throw new PoisonMessageError(`Podcast ${podcastId} cannot be advanced: ${describeProblem(problem)}`);
  if (episodeDate !== addDays(latestEpisodeDate, frequency)) {
    const podcast = await deps.podcasts.get(podcastId);
    if (podcast?.latestEpisodeDate !== latestEpisodeDate) return 'already-generated';
  }
  const episodeId = episodeIdFor(podcastId, episodeDate);
  const now = deps.clock.now().toISOString();
  let outcome: GenerateOutcome = 'already-generated';
  if (!(await deps.episodes.get(episodeId))) {
    const script = await completeBy(
      deps.llm,
      [
        { role: 'system', content: 'You write short, lively podcast episode scripts.' },
        {
          role: 'user',
          content: `Podcast: ${title}\nEpisode date: ${episodeDate}\nWrite the opening script.`,
        },
      ],
      deadline,
    );
    const created = await deps.episodes.createIfAbsent({
      episodeId,
      podcastId,
      episodeDate,
      title: `${title}: ${episodeDate}`,
      status: 'pending',
      script,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      ...(message.metadata.traceId && { traceId: message.metadata.traceId }),
    });
    if (created) outcome = 'created';
  }
  // Advancing after the episode exists means a crash in between is healed by the redelivery.
  await deps.podcasts.advance(podcastId, latestEpisodeDate, episodeDate, nextEpisodeDate, now);
  return outcome;
}

export type ProcessOutcome = 'processed' | 'already-done';

/**
 * The episode processor: pending -> processed with a summary and show notes from the LLM, once
 * (processOnce, by conditional writes). Both LLM calls share `budgetMs` (see workBudgetMs);
 * running past it is a failure like any other. A failure is rethrown for the queue to retry, and
 * on the last attempt first marks the episode `failed` with its public reason (`timed_out` when
 * the time ran out, else the generic internal failure); the chain goes to the logs through the
 * rethrow.
 */
export function processEpisode(
  deps: { episodes: EpisodeStore; llm: Llm; clock: Clock },
  message: EpisodeProcessingV1,
  attempt: Attempt & { budgetMs?: number },
): Promise<ProcessOutcome> {
  const deadline = deadlineAfter(attempt.budgetMs);
  const { episodeId } = message.data;
  const { episodes, clock } = deps;
  const now = () => clock.now().toISOString();
  return processOnce<Episode, ProcessOutcome>(
    {
      record: `Episode ${episodeId}`,
      start: () => episodes.start(episodeId, now()),
      exists: async () => (await episodes.get(episodeId)) !== undefined,
      alreadyDone: 'already-done',
      work: (episode) => summarise(deps, episode, deadline),
      fail: (_episode, failure) => episodes.finish(episodeId, { status: 'failed', error: failure }, now()),
    },
    attempt,
  );
}

/** The episode's summary and show notes, recorded as `processed`. */
async function summarise(
  deps: { episodes: EpisodeStore; llm: Llm; clock: Clock },
  episode: Episode,
  deadline: number,
): Promise<ProcessOutcome> {
  const { episodeId } = episode;
  const source = episode.script ?? episode.title;
  const summary = await completeBy(
    deps.llm,
    [
      { role: 'system', content: 'Summarise this podcast episode in two sentences.' },
      { role: 'user', content: source },
    ],
    deadline,
  );
  const showNotes = await completeBy(
    deps.llm,
    [
      { role: 'system', content: 'Write three bullet-point show notes for this podcast episode.' },
      { role: 'user', content: source },
    ],
    deadline,
  );
  const now = deps.clock.now().toISOString();
  await deps.episodes.finish(episodeId, { status: 'processed', summary, showNotes, processedAt: now }, now);
  return 'processed';
}
