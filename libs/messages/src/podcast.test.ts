import {
  createPodcastBodySchema,
  episodeSchema,
  episodeView,
  episodeViewSchema,
  podcastDateWindow,
  podcastView,
  podcastViewSchema,
} from './podcast';

const today = () => new Date().toISOString().slice(0, 10);
const daysFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

function problems(body: unknown) {
  const parsed = createPodcastBodySchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('createPodcastBodySchema', () => {
  const body = (latest_episode_date: string, frequency = 7) => ({
    title: 'Show',
    frequency,
    latest_episode_date,
  });

  it('accepts dates from 2000-01-01 to 366 days after today', () => {
    expect(problems(body('2000-01-01'))).toEqual([]);
    expect(problems(body(today()))).toEqual([]);
    expect(problems(body(daysFromToday(366), 365))).toEqual([]);
  });

  it('refuses dates outside the window, naming the field', () => {
    expect(problems(body('9999-12-31', 1))).toEqual([
      'latest_episode_date: must be at most 366 days after today',
    ]);
    expect(problems(body('0001-01-01', 1))).toEqual(['latest_episode_date: must be on or after 2000-01-01']);
    expect(problems(body(daysFromToday(368)))).toHaveLength(1);
    expect(problems(body('2026-02-30'))).toEqual([
      'latest_episode_date: must be an ISO 8601 date (YYYY-MM-DD)',
    ]);
  });

  it('bounds the frequency to 1..365 days', () => {
    expect(problems(body(today(), 0))).toEqual(['frequency: must be at least 1']);
    expect(problems(body(today(), 366))).toEqual(['frequency: must be at most 365']);
  });
});

describe('podcastDateWindow', () => {
  it('spans 2000-01-01 to a year ahead, and a year of frequency beyond for the next date', () => {
    expect(podcastDateWindow('2026-11-24')).toEqual({
      earliest: '2000-01-01',
      latest: '2027-11-25',
      latestNext: '2028-11-24',
    });
  });
});

describe('episodeSchema error', () => {
  const episode = {
    episodeId: 'e',
    podcastId: '00000000-0000-4000-8000-000000000001',
    episodeDate: '2026-11-24',
    title: 't',
    status: 'failed',
    attempts: 3,
    createdAt: '2026-11-24T00:00:00Z',
    updatedAt: '2026-11-24T00:00:00Z',
  };

  it('reads a public failure as is, and an old internal chain as the generic failure', () => {
    const failure = { code: 'timed_out', message: 'Processing did not finish within its time limit' };
    expect(episodeSchema.parse({ ...episode, error: failure }).error).toEqual(failure);
    const legacy = episodeSchema.parse({
      ...episode,
      error: 'OffloadError: arn:aws:sqs:eu-west-1:123456789012',
    });
    expect(legacy.error?.code).toBe('internal_error');
    expect(JSON.stringify(legacy)).not.toContain('123456789012');
  });
});

describe('the API views', () => {
  const snake = (value: unknown) =>
    Object.keys(value as object).every((key) => /^[a-z]+(_[a-z]+)*$/.test(key));

  it('shows a stored podcast in snake_case, without its owner', () => {
    const view = podcastView({
      podcastId: '00000000-0000-4000-8000-000000000001',
      title: 'Show',
      frequency: 7,
      latestEpisodeDate: '2026-11-17',
      nextEpisodeDate: '2026-11-24',
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-02T00:00:00.000Z',
    });
    expect(view).toEqual({
      podcast_id: '00000000-0000-4000-8000-000000000001',
      title: 'Show',
      frequency: 7,
      latest_episode_date: '2026-11-17',
      next_episode_date: '2026-11-24',
      created_at: '2026-11-01T00:00:00.000Z',
      updated_at: '2026-11-02T00:00:00.000Z',
    });
    expect(podcastViewSchema.parse(view)).toEqual(view);
  });

  it('shows every stored episode field in snake_case, and leaves absent ones out', () => {
    const stored = episodeSchema.parse({
      episodeId: '00000000-0000-4000-8000-000000000001_2026-11-24',
      podcastId: '00000000-0000-4000-8000-000000000001',
      episodeDate: '2026-11-24',
      title: 't',
      status: 'processed',
      script: 's',
      summary: 'm',
      showNotes: 'n',
      attempts: 1,
      createdAt: '2026-11-24T00:00:00.000Z',
      updatedAt: '2026-11-24T00:01:00.000Z',
      processedAt: '2026-11-24T00:01:00.000Z',
      traceId: 'run-1',
    });
    const view = episodeView(stored);
    expect(snake(view)).toBe(true);
    expect(Object.keys(view)).toHaveLength(Object.keys(stored).length);
    expect(view).toMatchObject({
      show_notes: 'n',
      processed_at: '2026-11-24T00:01:00.000Z',
      trace_id: 'run-1',
    });
    expect(episodeViewSchema.parse(view)).toEqual(view);
    const pending = episodeView({
      ...stored,
      status: 'pending',
      showNotes: undefined,
      processedAt: undefined,
    });
    expect(pending).not.toHaveProperty('show_notes');
    expect(pending).not.toHaveProperty('processed_at');
  });
});
