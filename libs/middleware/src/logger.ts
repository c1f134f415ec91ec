import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger per function. The service name comes from POWERTOOLS_SERVICE_NAME;
 * the stacks add the request id (HTTP) or message id (SQS) to every line.
 */
export const logger = new Logger();

export type { Logger };
