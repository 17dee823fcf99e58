/**
 * Domain errors. Each carries a stable code from one closed set; the HTTP layer maps codes to
 * statuses in exactly one place (functions/app/http.ts). Messages are written for API users and
 * never contain internals.
 */

export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  idempotency_conflict: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. "emails.3.to.0". */
  readonly path: string;
  readonly message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: readonly FieldIssue[],
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'DomainError';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** For `rate_limited`: when to try again (sent as Retry-After). */
  readonly retryAfterSeconds: number | undefined;

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/** Error names AWS services use for throttling, and the SDK's and Node's for a call that did not complete. */
const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'SlowDown',
  'TransactionConflictException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'AbortError',
]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * Whether `e` is a dependency that failed for now (a throttled or failing AWS call, a timeout, a
 * dropped connection) rather than a fault of the request or of mailroute: the API answers 503 with
 * Retry-After for it, so a client tries again.
 */
export function isTransient(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 5) return false;
  const err = e as {
    name?: unknown;
    code?: unknown;
    cause?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  // A wrapper (e.g. the idempotency layer's) says why in its cause.
  if (err.cause !== undefined && isTransient(err.cause, depth + 1)) return true;
  if (typeof err.name === 'string' && TRANSIENT_NAMES.has(err.name)) return true;
  if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
  const status = err.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  return err.$fault === 'server';
}

/** The Retry-After of a 503 that says nothing more precise. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;
