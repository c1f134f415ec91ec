import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  BatchWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamo, keyEquals, queryAll } from '@offload/aws/dynamodb';
import type { Connection, ConnectionStore } from '../domain/live';

// One table: a connection is `conn#<id>` / `conn`; a subscription is `<target key>` / `<connection
// id>`, so the notifier's "who subscribed to this" is one query. Every item carries
// `connection_id` (the byConnection index, for a disconnect's clean-up) and the connection's
// `expires_at`, the table's TTL attribute.
const connectionKey = (connectionId: string) => ({ pk: `conn#${connectionId}`, sk: 'conn' });
const DELETE_CHUNK = 25;

const asConnection = (item: Record<string, unknown>): Connection => ({
  connection_id: String(item.connection_id),
  owner: String(item.owner),
  expires_at: Number(item.expires_at),
});

export function dynamoConnections(tableName: string): ConnectionStore {
  return {
    async put(connection) {
      await dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...connectionKey(connection.connection_id), ...connection },
        }),
      );
    },
    async get(connectionId) {
      const out = await dynamo.send(
        new GetCommand({ TableName: tableName, Key: connectionKey(connectionId), ConsistentRead: true }),
      );
      return out.Item ? asConnection(out.Item) : undefined;
    },
    async remove(connectionId) {
      const keys = await queryAll(keyEquals(tableName, 'byConnection', 'connection_id', connectionId));
      const all = [connectionKey(connectionId), ...keys.map((k) => ({ pk: k.pk, sk: k.sk }))];
      const unique = [...new Map(all.map((k) => [`${String(k.pk)}|${String(k.sk)}`, k])).values()];
      for (let i = 0; i < unique.length; i += DELETE_CHUNK) {
        let requests = unique.slice(i, i + DELETE_CHUNK).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; requests.length > 0 && attempt < 5; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const out = await dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
          requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
        }
      }
    },
    async subscribe(key, connection) {
      await dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: key, sk: connection.connection_id, ...connection },
        }),
      );
    },
    async unsubscribe(key, connectionId) {
      await dynamo.send(new DeleteCommand({ TableName: tableName, Key: { pk: key, sk: connectionId } }));
    },
    async subscribers(key) {
      const out = await dynamo.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :key',
          ExpressionAttributeValues: { ':key': key },
        }),
      );
      return (out.Items ?? []).map(asConnection);
    },
  };
}
