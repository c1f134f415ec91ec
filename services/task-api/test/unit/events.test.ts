import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { createTaskBodySchema, parseMessage, taskSubmitted } from '@offload/messages';
import createTask from '../../events/createTask.json';
import getTask from '../../events/getTask.json';
import processTasks from '../../events/processTasks.json';

// The sample events feed `serverless invoke local`; these checks keep them valid as schemas move.
describe('sample events', () => {
  it('createTask.json carries a body POST /tasks accepts', () => {
    const event = createTask as APIGatewayProxyEventV2;
    expect(createTaskBodySchema.parse(JSON.parse(event.body!))).toMatchObject({ priority: 'high' });
    expect(event.headers['x-api-key']).toBe('dev-key-alice');
  });

  it('getTask.json asks for a task by UUID', () => {
    expect((getTask as APIGatewayProxyEventV2).pathParameters?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((getTask as APIGatewayProxyEventV2).headers['x-api-key']).toBe('dev-key-alice');
  });

  it('processTasks.json holds FIFO records with v1 task.submitted bodies', () => {
    const { Records } = processTasks as SQSEvent;
    expect(Records).toHaveLength(2);
    for (const record of Records) {
      expect(parseMessage(record.body, taskSubmitted).version).toBe('1');
      expect(record.attributes.MessageGroupId).toBe('tasks');
    }
  });
});
