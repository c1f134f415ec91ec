import { createPodcastBodySchema, episodeSchema, podcastDateWindow } from './podcast';

const today = () => new Date().toISOString().slice(0, 10);
const daysFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

function problems(body: unknown) {
  const parsed = createPodcastBodySchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('createPodcastBodySchema', () => {
  const body = (latestEpisodeDate: string, frequency = 7) => ({
    title: 'Show',
    frequency,
    latestEpisodeDate,
  });

  it('accepts dates from 2000-01-01 to 366 days after today', () => {
    expect(problems(body('2000-01-01'))).toEqual([]);
    expect(problems(body(today()))).toEqual([]);
    expect(problems(body(daysFromToday(366), 365))).toEqual([]);
  });

  it('refuses dates outside the window, naming the field', () => {
    expect(problems(body('9999-12-31', 1))).toEqual([
      'latestEpisodeDate: must be at most 366 days after today',
    ]);
    expect(problems(body('0001-01-01', 1))).toEqual(['latestEpisodeDate: must be on or after 2000-01-01']);
    expect(problems(body(daysFromToday(368)))).toHaveLength(1);
    expect(problems(body('2026-02-30'))).toEqual([
      'latestEpisodeDate: must be an ISO 8601 date (YYYY-MM-DD)',
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
