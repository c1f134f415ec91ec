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
  dynamoControls(await tables.fresh('ControlsTable')),
);
