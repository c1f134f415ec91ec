/** What a conditional write that lost is refused with, by DynamoDB and by every fake alike. */
export const CONDITION_FAILED = { name: 'ConditionalCheckFailedException' };

/** The error an in-memory fake throws where DynamoDB refuses a conditional write. */
export function conditionFailed(): Error {
  return Object.assign(new Error('The conditional request failed'), CONDITION_FAILED);
}
