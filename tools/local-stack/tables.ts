import { DynamoDBClient, ScanCommand, BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { startDynalite } from './emulators';
import { provision } from './provision';
import { discoverServices, printService } from './services';

export interface ServiceTables {
  endpoint: string;
  /** The table's name, by the logical id its serverless.yml gives it. */
  name(logicalId: string): string;
  /** Deletes every item of every table, so the next test starts from empty tables. */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';

/**
 * A dynalite of its own holding one service's tables, created from its serverless.yml resources
 * (at `stage`) exactly as the local stack provisions them: keys, indexes and TTL included.
 */
export async function startServiceTables(service: string, port = 0, stage = 'test'): Promise<ServiceTables> {
  const [dir] = discoverServices([service]);
  if (!dir) throw new Error(`No service named ${service}`);
  const resolved = await printService(dir, stage);
  const tableResources = Object.fromEntries(
    Object.entries(resolved.resources).filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table'),
  );
  const dynalite = await startDynalite(port);
  const endpoint = dynalite.endpoint;
  const summary = await provision({
    services: [{ ...resolved, resources: tableResources }],
    // Only tables are provisioned, so the queue and topic endpoints are never called.
    endpoints: { sqs: endpoint, sns: endpoint, dynamodb: endpoint },
    region: REGION,
  });
  const names = Object.fromEntries(
    Object.keys(tableResources).map((logicalId) => [logicalId, summary.arns[logicalId]!.split('/').pop()!]),
  );
  const client = new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const keysOf = async (table: string) => {
    const out = await client.send(new ScanCommand({ TableName: table }));
    const described = resolved.resources[Object.keys(names).find((id) => names[id] === table)!]!;
    const keySchema = (described.Properties?.KeySchema ?? []) as { AttributeName: string }[];
    return (out.Items ?? []).map((item) =>
      Object.fromEntries(keySchema.map(({ AttributeName }) => [AttributeName, item[AttributeName]!])),
    );
  };

  return {
    endpoint,
    name(logicalId) {
      const name = names[logicalId];
      if (!name) throw new Error(`${service} declares no table ${logicalId}`);
      return name;
    },
    async clear() {
      for (const table of Object.values(names)) {
        // Tests hold a few items; a scan that stops at 1 MB would need another page, and gets one.
        for (let keys = await keysOf(table); keys.length > 0; keys = await keysOf(table)) {
          for (let i = 0; i < keys.length; i += 25) {
            await client.send(
              new BatchWriteItemCommand({
                RequestItems: {
                  [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
                },
              }),
            );
          }
        }
      }
    },
    async stop() {
      client.destroy();
      await dynalite.stop();
    },
  };
}
