import { postJson } from '@offload/aws/apigateway';
import { liveEvent } from '@offload/messages';
import { sqsWorker } from '@offload/middleware';
import { systemClock } from '@offload/config';
import { dynamoConnections } from '../adapters/dynamoConnections';
import { connectionsConfig, notifierConfig } from '../config';
import { deliver } from '../domain/live';

const config = { ...connectionsConfig(), ...notifierConfig() };
const deps = {
  connections: dynamoConnections(config.CONNECTIONS_TABLE_NAME),
  push: postJson,
  clock: systemClock,
};

/** Notifier queue worker: pushes each event to the connections subscribed to its job or batch job. */
export const handler = sqsWorker({
  schema: liveEvent,
  dlqName: config.NOTIFIER_DLQ_NAME,
  maxReceiveCount: config.MAX_RECEIVE_COUNT,
  recordHandler: async (event, { log }) => {
    const report = await deliver(deps, event);
    log.info('Event delivered', { event_type: event.type, event_id: event.id, ...report });
  },
});
