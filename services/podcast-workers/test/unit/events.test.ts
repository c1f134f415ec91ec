import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import {
  createPodcastBodySchema,
  episodeProcessingV1,
  parseMessage,
  podcastGenerationV1,
} from '@offload/messages';
import createPodcast from '../../events/createPodcast.json';
import generatePodcasts from '../../events/generatePodcasts.json';
import processEpisodes from '../../events/processEpisodes.json';
import schedule from '../../events/schedule.json';

// The sample events feed `serverless invoke local`; these checks keep them valid as schemas move.
describe('podcast-workers sample events', () => {
  it('createPodcast.json carries a valid body', () => {
    const event = createPodcast as unknown as APIGatewayProxyEventV2;
    expect(createPodcastBodySchema.parse(JSON.parse(event.body!)).frequency).toBe(7);
  });

  it('the worker events hold v1.0 messages of their queues', () => {
    for (const r of (generatePodcasts as SQSEvent).Records)
      expect(parseMessage(r.body, podcastGenerationV1).version).toBe('1.0');
    for (const r of (processEpisodes as SQSEvent).Records)
      expect(parseMessage(r.body, episodeProcessingV1).version).toBe('1.0');
  });

  it('schedule.json is an EventBridge scheduled event', () => {
    expect(schedule['detail-type']).toBe('Scheduled Event');
  });
});
