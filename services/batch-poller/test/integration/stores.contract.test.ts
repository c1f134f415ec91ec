import { serviceTables } from '@offload/testing/storeContract';
import { dynamoBatchStore } from '../../src/adapters/dynamoBatchStore';
import { dynamoBudgetLedger, dynamoControls } from '../../src/adapters/dynamoControls';
import { describeBatchStoreContract } from '../contract/batchStore';
import { describeBatchControlsContract } from '../contract/controls';

const tables = serviceTables('batch-poller');

describeBatchStoreContract('DynamoDB adapter on dynalite', async () => {
  const jobs = await tables.fresh('BatchJobsTable');
  return dynamoBatchStore(jobs, await tables.fresh('BatchItemsTable'), (record) => {
    throw new Error(`unreadable record in a contract case: ${JSON.stringify(record)}`);
  });
});
describeBatchControlsContract('DynamoDB adapter on dynalite', async () => {
  const table = await tables.fresh('ControlsTable');
  return {
    controls: dynamoControls(table, { now: () => new Date('2026-11-24T12:00:00Z') }),
    budget: dynamoBudgetLedger(table),
  };
});
