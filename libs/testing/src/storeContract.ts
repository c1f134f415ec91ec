import { startServiceTables, type ServiceTables } from '../../../tools/local-stack/tables';

/**
 * For the DynamoDB half of a store contract: a dynalite of this test file's own with the service's
 * tables, and the DynamoDB client of `@offload/aws` pointed at it. `fresh(logicalId)` empties every
 * table and answers that table's name, so each case starts from what a new in-memory fake holds.
 */
export function serviceTables(service: string): { fresh(logicalId: string): Promise<string> } {
  let tables: ServiceTables | undefined;
  const saved = { ...process.env };
  beforeAll(async () => {
    tables = await startServiceTables(service);
    // The adapters' client resolves its endpoint on its first request, so this is early enough.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: tables.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    // `serverless print` of the service runs first: tens of seconds on a busy machine.
  }, 300_000);
  afterAll(async () => {
    process.env = saved;
    await tables?.stop();
  });
  return {
    async fresh(logicalId) {
      if (!tables)
        throw new Error('The tables are not up: serviceTables() must run at the top of a test file');
      await tables.clear();
      return tables.name(logicalId);
    },
  };
}
