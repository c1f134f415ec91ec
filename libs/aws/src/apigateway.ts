import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';

/**
 * One client per cold start for the WebSocket API's management endpoint. The endpoint is the
 * stage's `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`, given as the SDK's
 * service-specific AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI (locally, serverless offline's
 * WebSocket server).
 */
export const connections = new ApiGatewayManagementApiClient({});

const isGone = (error: unknown) =>
  error instanceof GoneException || (error instanceof Error && error.name === 'GoneException');

/** Sends one JSON message to a connection: 'gone' when API Gateway answers 410 (it has closed). */
export async function postJson(connectionId: string, message: unknown): Promise<'sent' | 'gone'> {
  try {
    await connections.send(
      new PostToConnectionCommand({
        ConnectionId: connectionId,
        Data: new TextEncoder().encode(JSON.stringify(message)),
      }),
    );
    return 'sent';
  } catch (error) {
    if (isGone(error)) return 'gone';
    throw error;
  }
}
