import { logger, websocketRoute } from '@offload/middleware';
import { dynamoConnections } from '../adapters/dynamoConnections';
import { connectionsConfig } from '../config';

const connections = dynamoConnections(connectionsConfig().CONNECTIONS_TABLE_NAME);

/** $disconnect (best effort on AWS): drops the connection and its subscriptions. */
export const handler = websocketRoute(async (event) => {
  await connections.remove(event.requestContext.connectionId);
  logger.info('WebSocket disconnected');
  return { statusCode: 200 };
});
