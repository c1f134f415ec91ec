import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '@offload/aws/dynamodb';
import { sendMessages } from '@offload/aws/sqs';
import type { Episode } from '@offload/messages';
import { drainQueue, stubControl, waitFor, type ReceivedMessage } from '@offload/testing';

// Names follow services/podcast-workers/serverless.yml at the `test` stage the harness starts.
const PODCASTS_TABLE = 'offload-podcast-workers-test-podcasts';
const EPISODES_TABLE = 'offload-podcast-workers-test-episodes';
const GENERATION_QUEUE = 'offload-podcast-workers-test-podcast-generation';
const GENERATION_DLQ = 'offload-podcast-workers-test-podcast-generation-dlq';
const EPISODE_QUEUE = 'offload-podcast-workers-test-episode-processing';
const EPISODE_DLQ = 'offload-podcast-workers-test-episode-processing-dlq';

const api = () => {
  const url = process.env.PODCAST_WORKERS_URL;
  if (!url) throw new Error('PODCAST_WORKERS_URL is not set: the integration globalSetup did not run');
  return url;
};

// Development keys (README): alice registers podcasts; olga holds the operator role the triggers need.
const ALICE = { 'x-api-key': 'dev-key-alice' };
const OPERATOR = { 'x-api-key': 'dev-key-olga' };

async function post(path: string, body?: unknown) {
  const res = await fetch(`${api()}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(path === '/podcasts' ? ALICE : OPERATOR) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const isoDate = (daysFromToday: number) =>
  new Date(Date.now() + daysFromToday * 86_400_000).toISOString().slice(0, 10);

/** A podcast whose next episode is due today: once generated, it is not due again for a week. */
async function duePodcast(title = `Show ${randomUUID().slice(0, 8)}`): Promise<string> {
  const res = await post('/podcasts', { title, frequency: 7, latest_episode_date: isoDate(-7) });
  expect(res.status).toBe(201);
  return res.json.podcast_id as string;
}

/** Writes a pending episode of `podcastId` dated `daysFromToday`, as the generator would; its id. */
async function putPendingEpisode(
  podcastId: string,
  daysFromToday: number,
  fields: Pick<Episode, 'title'> & Partial<Episode>,
): Promise<string> {
  const now = new Date().toISOString();
  const episodeDate = isoDate(daysFromToday);
  const episode: Episode = {
    episodeId: `${podcastId}_${episodeDate}`,
    podcastId,
    episodeDate,
    status: 'pending',
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
  await dynamo.send(new PutCommand({ TableName: EPISODES_TABLE, Item: episode }));
  return episode.episodeId;
}

async function episodesOf(podcastId: string): Promise<Episode[]> {
  const out = await dynamo.send(
    new QueryCommand({
      TableName: EPISODES_TABLE,
      IndexName: 'byPodcast',
      KeyConditionExpression: 'podcastId = :id',
      ExpressionAttributeValues: { ':id': podcastId },
    }),
  );
  return (out.Items ?? []) as Episode[];
}

const generationMessage = (podcastId: string, title: string, latestEpisodeDate: string) => ({
  version: '1.0',
  type: 'podcast_generation',
  data: { podcastId, title, frequency: 7, latestEpisodeDate },
  metadata: { retryCount: 0, source: 'podcast_scheduler' },
});

const deadLetters: ReceivedMessage[] = [];
async function deadLetterFor(queue: string, fragment: string) {
  return waitFor(`a dead letter containing ${fragment}`, async () => {
    deadLetters.push(...(await drainQueue(queue)));
    return deadLetters.find((m) => m.body.includes(fragment));
  });
}

describe('podcast-workers with the local emulators', () => {
  afterEach(async () => {
    await stubControl('/_stub/faults', 'DELETE');
    await stubControl('/_stub/delays', 'DELETE');
  });

  it('turns 25 due podcasts into exactly 25 generation messages in 3 batches and 25 new episodes', async () => {
    // Suites sharing this stage (the README's podcast curls among them) may leave a podcast due:
    // schedule until the generator has caught them up, so the counts below are this test's alone.
    await waitFor(
      'no podcast left due by earlier suites',
      async () => (await post('/podcasts/schedule')).json.found === 0,
      { intervalMs: 1000 },
    );
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await duePodcast());

    const run = await post('/podcasts/schedule');
    expect(run).toEqual({ status: 202, json: { found: 25, sent: 25, failed: 0, batches: 3, skipped: 0 } });

    for (const id of ids) {
      const episodes = await waitFor(`the episode of ${id}`, async () => {
        const list = await episodesOf(id);
        return list.length > 0 && list;
      });
      expect(episodes).toHaveLength(1);
      expect(episodes[0]).toMatchObject({ status: 'pending', episodeDate: isoDate(0) });
    }
    const podcast = await (await fetch(`${api()}/podcasts/${ids[0]}`, { headers: ALICE })).json();
    expect(podcast).toMatchObject({ latest_episode_date: isoDate(0), next_episode_date: isoDate(7) });
    expect(await drainQueue(GENERATION_DLQ)).toEqual([]);
  });

  it('creates no duplicate episodes when the scheduler runs twice before the workers finish', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await duePodcast());
    const runs = await Promise.all([post('/podcasts/schedule'), post('/podcasts/schedule')]);
    expect(runs.map((r) => r.json.sent as number).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(5);

    // And a late duplicate of one message, as a redelivery would bring.
    const first = ids[0]!;
    await waitFor('the first episode', async () => (await episodesOf(first)).length > 0);
    await sendMessages(GENERATION_QUEUE, [
      { body: JSON.stringify(generationMessage(first, 'dup', isoDate(-7))) },
    ]);

    await waitFor('the generation queue to drain', async () => {
      const counts = await Promise.all(ids.map(async (id) => (await episodesOf(id)).length));
      return counts.every((n) => n >= 1) && counts;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const id of ids) expect(await episodesOf(id)).toHaveLength(1);
  });

  it('processes 40 pending episodes found by the episode checker', async () => {
    const podcastId = randomUUID();
    for (let i = 0; i < 40; i++)
      await putPendingEpisode(podcastId, -40 + i, { title: `Backlog ${i}`, script: `Script ${i}` });

    const run = await post('/episodes/check');
    expect(run.status).toBe(202);
    expect(run.json.found).toBeGreaterThanOrEqual(40);
    expect(run.json).toMatchObject({ sent: run.json.found, failed: 0 });

    const done = await waitFor('all 40 episodes processed', async () => {
      const list = await episodesOf(podcastId);
      return list.length === 40 && list.every((e) => e.status === 'processed') && list;
    });
    for (const episode of done) expect(episode.summary && episode.showNotes).toBeTruthy();
  });

  it('dead-letters a v2.0 message and a malformed one after one receive while their batch-mates succeed', async () => {
    const podcastId = randomUUID();
    const now = new Date().toISOString();
    const episodeId = await putPendingEpisode(podcastId, 0, { title: 'Mate' });
    const valid = {
      version: '1.0',
      type: 'episode_processing',
      data: { episodeId, podcastId, status: 'pending', timestamp: now },
      metadata: { retryCount: 0, source: 'episode_checker' },
    };
    const marker = randomUUID();
    await sendMessages(EPISODE_QUEUE, [
      { body: JSON.stringify(valid) },
      {
        body: JSON.stringify({
          ...valid,
          version: '2.0',
          data: { ...valid.data, episodeId: `v2-${marker}` },
        }),
      },
      { body: `{"type":"episode_processing","broken-${marker}` },
    ]);

    const v2 = await deadLetterFor(EPISODE_DLQ, `v2-${marker}`);
    const malformed = await deadLetterFor(EPISODE_DLQ, `broken-${marker}`);
    for (const dead of [v2, malformed]) {
      expect(dead.attributes).toMatchObject({ failure_kind: 'poison', receive_count: '1' });
      expect(dead.attributes.failure_reason).toMatch(/PoisonMessageError/);
    }
    expect(v2.attributes.failure_reason).toMatch(/version/);
    await waitFor('the valid batch-mate to be processed', async () => {
      const list = await episodesOf(podcastId);
      return list[0]?.status === 'processed';
    });
  });

  it('retries a worker failure and then succeeds', async () => {
    const title = `Flaky ${randomUUID()}`;
    await stubControl('/_stub/faults', 'POST', { match: title, times: 1, status: 503 });
    const id = await duePodcast(title);
    expect((await post('/podcasts/schedule')).json.sent).toBeGreaterThanOrEqual(1);

    const [episode] = await waitFor('the episode after a retry', async () => {
      const list = await episodesOf(id);
      return list.length > 0 && list;
    });
    expect(episode).toMatchObject({ status: 'pending', podcastId: id });
    const stats = await stubControl<{ failures: number }>('/_stub/stats');
    expect(stats.failures).toBeGreaterThanOrEqual(1);
  });

  it('refuses a podcast dated 9999-12-31 with a 400 naming the field', async () => {
    const res = await post('/podcasts', { title: 'x', frequency: 1, latest_episode_date: '9999-12-31' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain('latest_episode_date');
  });

  it('skips a corrupt podcast record and schedules every other due podcast', async () => {
    // Written straight to the table, as the old API did: year 10000 sorts first in the due index.
    const corruptId = randomUUID();
    const now = new Date().toISOString();
    await dynamo.send(
      new PutCommand({
        TableName: PODCASTS_TABLE,
        Item: {
          podcastId: corruptId,
          schedule: 'active',
          title: 'x',
          frequency: 1,
          latestEpisodeDate: '9999-12-31',
          nextEpisodeDate: '+010000-01',
          createdAt: now,
          updatedAt: now,
        },
      }),
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await duePodcast());

      const run = await post('/podcasts/schedule');
      expect(run.status).toBe(202);
      expect(run.json).toMatchObject({ skipped: 1, failed: 0 });
      expect(run.json.sent).toBe((run.json.found as number) - 1);
      expect(run.json.sent).toBeGreaterThanOrEqual(3);
      for (const id of ids) {
        await waitFor(`the episode of ${id}`, async () => (await episodesOf(id)).length === 1);
      }

      const read = await fetch(`${api()}/podcasts/${corruptId}`, { headers: { ...ALICE } });
      expect(read.status).toBe(409);
      expect(await read.json()).toMatchObject({ error: { code: 'podcast_unreadable' } });
    } finally {
      await dynamo.send(new DeleteCommand({ TableName: PODCASTS_TABLE, Key: { podcastId: corruptId } }));
    }
  });

  it('schedules a due podcast whose title has an emoji', async () => {
    const title = `Night Owls 🦉 ${randomUUID().slice(0, 8)}`;
    const id = await duePodcast(title);
    const run = await post('/podcasts/schedule');
    expect(run.json).toMatchObject({ failed: 0 });
    expect(run.json.sent).toBeGreaterThanOrEqual(1);
    const [episode] = await waitFor('the emoji episode', async () => {
      const list = await episodesOf(id);
      return list.length > 0 && list;
    });
    expect(episode?.title).toBe(`${title}: ${isoDate(0)}`);
  });

  it('ends an episode whose LLM call outlasts the time budget failed with timed_out', async () => {
    const podcastId = randomUUID();
    const marker = `slow-${randomUUID()}`;
    await putPendingEpisode(podcastId, 0, {
      title: 'Slow',
      script: `A script the model takes too long over: ${marker}`,
    });
    // Longer than the whole 5 s test-stage function timeout, on every attempt.
    await stubControl('/_stub/delays', 'POST', { match: marker, delayMs: 8000, times: 'always' });
    expect((await post('/episodes/check')).json.sent).toBeGreaterThanOrEqual(1);

    const [episode] = await waitFor(
      'the slow episode to fail',
      async () => {
        const list = await episodesOf(podcastId);
        return list[0]?.status === 'failed' && list;
      },
      { timeoutMs: 100_000, intervalMs: 250 },
    );
    expect(episode?.error).toEqual({
      code: 'timed_out',
      message: 'Processing did not finish within its time limit',
    });
    expect(episode?.attempts).toBeGreaterThanOrEqual(5);
  });
});
