import type { APIGatewayProxyEventV2, Context, SQSRecord } from 'aws-lambda';
import { hashKey, parseCallers, type CallerSource } from './callers';
import { logger } from './logger';
import { metrics } from './metrics';

// Event factories and output captures shared by this library's tests.

export const lambdaContext = { awsRequestId: 'req-1', functionName: 'fn' } as Context;

/** The key the test callers know: `TEST_KEY` is alice (free), `OPERATOR_KEY` an operator. */
export const TEST_KEY = 'test-key-alice';
export const OPERATOR_KEY = 'test-key-ops';
export const testCallers: CallerSource = async () =>
  parseCallers(`${hashKey(TEST_KEY)}:alice:free,${hashKey(OPERATOR_KEY)}:ops:paid:operator`);

export function httpEvent(
  body: string | undefined,
  headers: Record<string, string> = { 'content-type': 'application/json', 'x-api-key': TEST_KEY },
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
  attributes: { groupId?: string; receiveCount?: number; messageAttributes?: Record<string, string> } = {},
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
    messageAttributes: Object.fromEntries(
      Object.entries(attributes.messageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: 'String', stringValue: value, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
    awsRegion: 'us-east-1',
  };
}

/**
 * Runs `action` with the shared logger at INFO (unit tests keep it silent) and returns the JSON
 * lines it printed, as the function's log would hold them. Child loggers created meanwhile inherit
 * the level; injectLambdaContext would restore the initial level on every invocation (its debug
 * sampling refresh, which these tests do not use), so that refresh is paused meanwhile.
 */
export async function captureLogs(action: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => (chunks.push(String(chunk)), true);
  const spies = [
    ...[process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation(capture),
    ),
    jest.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined),
  ];
  const level = logger.getLevelName();
  logger.setLogLevel('INFO');
  try {
    await action();
  } finally {
    logger.setLogLevel(level);
    spies.forEach((spy) => spy.mockRestore());
  }
  return chunks
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export type EmfDocument = ReturnType<typeof metrics.serializeMetrics>;

/**
 * Runs `action` and returns every EMF document the stacks flushed meanwhile, as they would be
 * printed (unit tests set POWERTOOLS_METRICS_DISABLED, so nothing is printed).
 */
export async function captureMetrics(action: () => Promise<unknown>): Promise<EmfDocument[]> {
  const flushed: EmfDocument[] = [];
  const publish = metrics.publishStoredMetrics.bind(metrics);
  const spy = jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    if (metrics.hasStoredMetrics()) flushed.push(metrics.serializeMetrics());
    return publish();
  });
  try {
    await action();
  } finally {
    spy.mockRestore();
  }
  return flushed;
}
