import type { APIGatewayProxyEventV2, Context, SQSRecord } from 'aws-lambda';

// Event factories shared by this library's tests.

export const lambdaContext = { awsRequestId: 'req-1', functionName: 'fn' } as Context;

export function httpEvent(
  body: string | undefined,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  extra: Partial<APIGatewayProxyEventV2> = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /things',
    rawPath: '/things',
    rawQueryString: '',
    headers,
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/things' }, requestId: 'req-1' },
    ...extra,
  } as unknown as APIGatewayProxyEventV2;
}

export function sqsRecord(
  messageId: string,
  body: string,
  attributes: { groupId?: string; receiveCount?: number } = {},
): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(attributes.receiveCount ?? 1),
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
      ...(attributes.groupId && { MessageGroupId: attributes.groupId, MessageDeduplicationId: messageId }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}
