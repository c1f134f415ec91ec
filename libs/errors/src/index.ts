/**
 * The one error hierarchy every service throws from. Names end in `Error` and `cause` is kept so
 * logs show the whole chain; HTTP errors carry their status so one middleware can map them.
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

export class HttpError extends OffloadError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: readonly FieldProblem[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** 4xx errors are the caller's to fix, so their text is safe to return; 5xx text never is. */
  get expose(): boolean {
    return this.status < 500;
  }
}

export class ValidationError extends HttpError {
  constructor(details: readonly FieldProblem[], message = 'The request is invalid') {
    super(400, 'validation_failed', message, details);
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'Not found') {
    super(404, 'not_found', message);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(limitBytes: number) {
    super(413, 'payload_too_large', `The body exceeds ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends HttpError {
  constructor() {
    super(415, 'unsupported_media_type', 'The body must be JSON (Content-Type: application/json)');
  }
}

/** A caller went over a rate limit; the answer carries Retry-After. */
export class TooManyRequestsError extends HttpError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `Too many requests; retry in ${retryAfterSeconds} s`,
  ) {
    super(429, 'rate_limited', message);
  }
}

export class UnauthorizedError extends HttpError {
  constructor() {
    super(401, 'unauthorized', 'Send an API key in x-api-key or Authorization: Bearer <key>');
  }
}

/** A known caller asked for something its key does not allow (an operator-only route). */
export class ForbiddenError extends HttpError {
  constructor(message = 'This API key may not call this route') {
    super(403, 'forbidden', message);
  }
}

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
