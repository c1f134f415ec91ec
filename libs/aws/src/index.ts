// Import the client you need from its subpath (`@offload/aws/sqs`) so a bundle only carries,
// and a cold start only constructs, the clients that function uses.
export type { OutgoingMessage, BatchSendResult } from './sqs';
