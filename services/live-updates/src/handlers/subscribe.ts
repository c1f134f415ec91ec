import { postJson } from '@offload/aws/apigateway';
import { logger, websocketRoute } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoConnections } from '../adapters/dynamoConnections';
import { tableSources } from '../adapters/sources';
import { connectionsConfig, sourceConfig } from '../config';
import { handleRequest } from '../domain/live';

const config = { ...connectionsConfig(), ...sourceConfig() };
const deps = {
  connections: dynamoConnections(config.CONNECTIONS_TABLE_NAME),
  source: tableSources({ jobs: config.JOBS_TABLE_NAME, batchJobs: config.BATCH_JOBS_TABLE_NAME }),
  push: postJson,
  clock: systemClock,
};

/**
 * The `subscribe` and `unsubscribe` routes, and `$default` (any other action answers bad_request):
 * one function, since all three read the same frame the same way.
 */
export const handler = websocketRoute(async (event) => {
  const outcome = await handleRequest(deps, event.requestContext.connectionId, event.body ?? undefined);
  logger.info('WebSocket request', { outcome });
  return { statusCode: 200 };
});
