import { serviceTables } from '@offload/testing/storeContract';
import { dynamoConnections } from '../../src/adapters/dynamoConnections';
import { describeConnectionStoreContract } from '../contract/connections';

const tables = serviceTables('live-updates');

describeConnectionStoreContract('DynamoDB adapter on dynalite', async () =>
  dynamoConnections(await tables.fresh('ConnectionsTable')),
);
