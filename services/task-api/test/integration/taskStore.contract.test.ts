import { serviceTables } from '@offload/testing/storeContract';
import { dynamoTaskStore } from '../../src/adapters/dynamoTaskStore';
import { describeTaskStoreContract } from '../contract/taskStore';

const tables = serviceTables('task-api');

describeTaskStoreContract('DynamoDB adapter on dynalite', async () =>
  dynamoTaskStore(await tables.fresh('TasksTable')),
);
