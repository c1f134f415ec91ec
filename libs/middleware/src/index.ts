export {
  callersFromEnvironment,
  hashKey,
  identify,
  parseCallers,
  requireOperator,
  type CallerSource,
} from './callers';
export { CORS_POLICY, httpApi, type HttpEvent, type HttpHandler, type HttpOptions } from './http';
export { bodyLimit, rejectBody, requireBody, validateBody } from './httpBody';
export { httpErrorMapper, statusOf, WWW_AUTHENTICATE } from './httpErrors';
export { appendCorrelationId, correlationIdOf, logger, traceIdOf } from './logger';
export { flushMetrics, metrics, MetricUnit, recordCounts } from './metrics';
export { uuidPathParameter } from './pathParameters';
export { json, type JsonResult } from './response';
export { scheduled } from './schedule';
export {
  sqsWorker,
  SkippedAfterFailureError,
  type RecordContext,
  type RecordHandler,
  type RecordLog,
} from './sqs';
export { websocketRoute, type WebSocketEvent, type WebSocketResult } from './websocket';
