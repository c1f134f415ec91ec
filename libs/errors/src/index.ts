/**
 * The one error hierarchy every service throws from. Names end in `Error` and `cause` is kept so
 * logs show the whole chain. Request errors carry a public code, never an HTTP status: the HTTP
 * middleware maps each class to its status at the edge.
 */
export class OffloadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A required environment variable is missing or malformed: fail at cold start, naming it. */
export class ConfigError extends OffloadError {}

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * A request the domain refuses, for a reason the caller can fix or act on: `code` and `message` are
 * written for them and returned as they are. No transport status here: the HTTP edge maps each
 * class to one (libs/middleware httpErrors), so domain code knows no HTTP.
 */
export class RequestError extends OffloadError {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; details?: readonly FieldProblem[] },
  ) {
    super(message, options);
    this.details = options?.details;
  }

  readonly details?: readonly FieldProblem[];
}

/** The request's fields (body, query, path, headers) are not what the operation takes; `details` names each field. */
export class ValidationError extends RequestError {
  constructor(details: readonly FieldProblem[], message = 'The request is invalid') {
    super('validation_failed', message, { details });
  }

  declare readonly details: readonly FieldProblem[];
}

/** No such record for this caller (another caller's record is indistinguishable from a missing one). */
export class NotFoundError extends RequestError {
  constructor(message = 'Not found', options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

/** The record's current state does not allow the operation (already finished, still being accepted, ...). */
export class ConflictError extends RequestError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An Idempotency-Key replayed with a different body: the first request's result cannot answer it. */
export class IdempotencyKeyReusedError extends RequestError {
  constructor() {
    super('idempotency_key_reused', 'This Idempotency-Key was used with a different body');
  }
}

export class PayloadTooLargeError extends RequestError {
  constructor(limitBytes: number) {
    super('payload_too_large', `The body exceeds ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends RequestError {
  constructor() {
    super('unsupported_media_type', 'The body must be JSON (Content-Type: application/json)');
  }
}

/** A caller went over a rate limit or budget; `retryAfterSeconds` says when to try again. */
export class TooManyRequestsError extends RequestError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests; retry in ${retryAfterSeconds} s`,
  ) {
    super('rate_limited', message);
  }
}

export class UnauthorizedError extends RequestError {
  constructor() {
    super('unauthorized', 'Send an API key in x-api-key or Authorization: Bearer <key>');
  }
}

/** A known caller asked for something its key does not allow (an operator-only route). */
export class ForbiddenError extends RequestError {
  constructor(message = 'This API key may not call this route') {
    super('forbidden', message);
  }
}

/**
 * A record a message names is not there yet: the write that creates it may still land (the
 * message can overtake it), so the worker retries; after the last attempt the message goes to
 * the DLQ with this reason.
 */
export class NotFoundYetError extends OffloadError {}

/**
 * A queue message that can never succeed (malformed body, unknown schema version): retrying only
 * delays it, so the SQS stack sends it to the DLQ at once with this reason.
 */
export class PoisonMessageError extends OffloadError {}

/** Builds a one-line reason from an error chain, for DLQ attributes and logs (never the payload). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current !== undefined && parts.length < 4) {
    if (current instanceof Error) {
      parts.push(`${current.name}: ${current.message}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(' <- ');
}

/** What a client may see of a failed task, job, episode or batch item: a stable code and a message written for them. */
export interface PublicFailure {
  code: string;
  message: string;
}

/**
 * A failure whose code and message are written for the client. Workers throw it (or wrap a cause in
 * it) when they know what went wrong in terms a caller can act on; the cause chain still reaches the
 * logs through describeError.
 */
export class PublicFailureError extends OffloadError {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get failure(): PublicFailure {
    return { code: this.code, message: this.message };
  }
}

/** The failure recorded when nothing in the chain was written for the client: internals never leak. */
export const INTERNAL_FAILURE: PublicFailure = {
  code: 'internal_error',
  message: 'The work failed for an internal reason; quote the id when you report it',
};

/**
 * The public face of an error chain, for a record's `error` field: the first PublicFailureError in
 * the chain, else the generic internal failure. Never the chain's own text, which can hold ARNs,
 * account ids or a provider's error body (those stay in the logs via describeError).
 */
export function publicFailureOf(error: unknown): PublicFailure {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth += 1) {
    if (current instanceof PublicFailureError) return current.failure;
    current = current.cause;
  }
  return INTERNAL_FAILURE;
}

export { processOnce, type Attempt, type WorkerStep } from './workerStep';
