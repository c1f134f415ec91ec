import { UnauthorizedError } from '@offload/errors';
import { identify, logger, parseCallers, websocketRoute } from '@offload/middleware';
import { dynamoConnections } from '../adapters/dynamoConnections';
import { callerConfig, connectionsConfig } from '../config';
import { newConnection } from '../domain/live';

const config = { ...connectionsConfig(), ...callerConfig() };
const callers = parseCallers(config.API_KEYS);
const connections = dynamoConnections(config.CONNECTIONS_TABLE_NAME);

/**
 * $connect with `?key=<api key>` (browsers cannot set headers on a WebSocket): an unknown or
 * missing key answers 401, which fails the handshake; a known one records the connection's owner.
 */
export const handler = websocketRoute(async (event) => {
  let owner: string;
  try {
    owner = identify(callers, { 'x-api-key': event.queryStringParameters?.key }).userId;
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
