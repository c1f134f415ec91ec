import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '@offload/aws/dynamodb';
import { systemClock } from '@offload/config';
import { serviceTables } from '@offload/testing/storeContract';
import { dynamoControls } from '../../src/adapters/dynamoControls';
import { dynamoJobStore } from '../../src/adapters/dynamoJobStore';
import { describeControlsContract } from '../contract/controls';
import { describeJobStoreContract } from '../contract/jobStore';

const tables = serviceTables('ai-jobs');

describeJobStoreContract('DynamoDB adapter on dynalite', async () =>
  dynamoJobStore(await tables.fresh('JobsTable')),
);
describeControlsContract('DynamoDB adapter on dynalite', async () =>
  dynamoControls(await tables.fresh('ControlsTable'), systemClock),
);

describe('dynamoControls on dynalite', () => {
  it("answers a claim in ai-jobs' own stored format (pk idem#owner#key, job_id), so claims survive a deploy", async () => {
    const table = await tables.fresh('ControlsTable');
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    await dynamo.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: 'idem#alice#key-1',
          job_id: 'job-before',
          body_hash: 'hash-before',
          expires_at: expiresAt,
        },
      }),
    );
    const controls = dynamoControls(table, systemClock);

    expect(
      await controls.claimIdempotencyKey('alice', 'key-1', { jobId: 'job-after', bodyHash: 'h' }),
    ).toEqual({
      jobId: 'job-before',
      bodyHash: 'hash-before',
    });
    expect(
      await controls.claimIdempotencyKey('alice', 'key-2', { jobId: 'job-2', bodyHash: 'h2' }),
    ).toBeUndefined();
    const stored = await dynamo.send(new GetCommand({ TableName: table, Key: { pk: 'idem#alice#key-2' } }));
    expect(stored.Item).toMatchObject({ job_id: 'job-2', body_hash: 'h2' });
  });
});
