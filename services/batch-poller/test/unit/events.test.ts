import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { createBatchJobBodySchema } from '@offload/messages';
import createBatchJob from '../../events/createBatchJob.json';
import getBatchJob from '../../events/getBatchJob.json';
import listBatchItems from '../../events/listBatchItems.json';
import pollBatches from '../../events/pollBatches.json';

// The sample events feed `serverless invoke local`; these checks keep them valid as schemas move.
describe('batch-poller sample events', () => {
  it('createBatchJob.json carries a valid body and a development key', () => {
    const event = createBatchJob as unknown as APIGatewayProxyEventV2;
    expect(createBatchJobBodySchema.parse(JSON.parse(event.body!)).items).toHaveLength(2);
    expect(event.headers['x-api-key']).toBe('dev-key-alice');
  });

  it('getBatchJob.json and listBatchItems.json ask for a job by UUID', () => {
    for (const event of [getBatchJob, listBatchItems] as unknown as APIGatewayProxyEventV2[])
      expect(event.pathParameters?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('pollBatches.json is an EventBridge scheduled event', () => {
    expect((pollBatches as unknown as ScheduledEvent)['detail-type']).toBe('Scheduled Event');
  });
});
