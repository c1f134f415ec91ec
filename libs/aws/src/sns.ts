import { SNSClient } from '@aws-sdk/client-sns';

/** One client per cold start; endpoint from AWS_ENDPOINT_URL(_SNS). */
export const sns = new SNSClient({});
