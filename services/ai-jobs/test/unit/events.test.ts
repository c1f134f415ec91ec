import type { APIGatewayProxyEventV2, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { createJobBodySchema, jobRequested, jobResult, parseMessage } from '@offload/messages';
import createJob from '../../events/createJob.json';
import cancelJob from '../../events/cancelJob.json';
import getJob from '../../events/getJob.json';
import listJobs from '../../events/listJobs.json';
import processJobs from '../../events/processJobs.json';
import recordResults from '../../events/recordResults.json';
import sweepStaleJobs from '../../events/sweepStaleJobs.json';

// The sample events feed `serverless invoke local`; these checks keep them valid as schemas move.
describe('ai-jobs sample events', () => {
  it('createJob.json carries a valid body and a development key', () => {
    const event = createJob as unknown as APIGatewayProxyEventV2;
    expect(createJobBodySchema.parse(JSON.parse(event.body!)).type).toBe('discussion');
    expect(event.headers['x-api-key']).toBe('dev-key-alice');
  });

  it('getJob.json asks for a job by UUID', () => {
    expect((getJob as unknown as APIGatewayProxyEventV2).pathParameters?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('listJobs.json and cancelJob.json are the list and cancel routes', () => {
    expect((listJobs as unknown as APIGatewayProxyEventV2).queryStringParameters).toEqual({
      status: 'processing',
      limit: '10',
    });
    expect((cancelJob as unknown as APIGatewayProxyEventV2).requestContext.http.method).toBe('DELETE');
  });

  it('processJobs.json and recordResults.json hold v1 messages of their queues', () => {
    for (const record of (processJobs as SQSEvent).Records)
      expect(parseMessage(record.body, jobRequested).version).toBe('1');
    for (const record of (recordResults as SQSEvent).Records)
      expect(parseMessage(record.body, jobResult).version).toBe('1');
  });

  it('sweepStaleJobs.json is an EventBridge scheduled event', () => {
    expect((sweepStaleJobs as unknown as ScheduledEvent)['detail-type']).toBe('Scheduled Event');
  });
});
