import { UnauthorizedError } from '@offload/errors';
import { callersFromEnvironment, identify, logger, websocketRoute } from '@offload/middleware';
import { dynamoConnections } from '../adapters/dynamoConnections';
import { connectionsConfig } from '../config';
import { newConnection } from '../domain/live';

const config = connectionsConfig();
// The same key table as every HTTP route: SSM on deployed stages, inline on the local ones.
const callers = callersFromEnvironment();
const connections = dynamoConnections(config.CONNECTIONS_TABLE_NAME);

/**
 * $connect with `?key=<api key>` (browsers cannot set headers on a WebSocket): an unknown or
 * missing key answers 401, which fails the handshake; a known one records the connection's owner.
 */
export const handler = websocketRoute(async (event) => {
  let owner: string;
  try {
    owner = identify(await callers(), { 'x-api-key': event.queryStringParameters?.key }).userId;
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      logger.info('WebSocket connection refused: no valid key');
      return { statusCode: 401 };
    }
    throw error;
  }
  await connections.put(newConnection(event.requestContext.connectionId, owner, new Date()));
  logger.info('WebSocket connected', { owner });
  return { statusCode: 200 };
});
