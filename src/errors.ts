/**
 * Every error askbase answers with: its code, its HTTP status, and the headers it always
 * carries. The one error handler turns any AppError, and any error Fastify or Node's HTTP
 * parser raises, into `{"error": {"code", "message", …}}` from this table; nothing else
 * decides a status.
 */
export const ERRORS = {
  invalid_request: { status: 400 },
  invalid_json: { status: 400 },
  model_not_allowed: { status: 400 },
  /** The LLM refused a chat request as the client wrote it; /v1 relays the LLM's own status. */
  llm_rejected_request: { status: 400 },
  unauthorized: { status: 401, headers: { 'www-authenticate': 'Bearer' } },
  not_found: { status: 404 },
  method_not_allowed: { status: 405 },
  /** Node's HTTP server gave up waiting for the request (headers or body) to arrive. */
  request_timeout: { status: 408 },
  request_in_progress: { status: 409, headers: { 'retry-after': '1' } },
  not_retryable: { status: 409 },
  payload_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  idempotency_key_reused: { status: 422 },
  rate_limited: { status: 429 },
  headers_too_large: { status: 431 },
  internal_error: { status: 500 },
  llm_bad_response: { status: 502 },
  llm_unavailable: { status: 503 },
  llm_not_configured: { status: 503 },
  /** The LLM call was ended by askbase's own signal; replaced by the reason before it is seen. */
  llm_call_aborted: { status: 503 },
  interrupted: { status: 503, headers: { 'retry-after': '1' } },
  database_unavailable: { status: 503 },
  shutting_down: { status: 503, headers: { 'retry-after': '1' } },
  llm_timeout: { status: 504 },
} as const satisfies Record<string, { status: number; headers?: Record<string, string> }>;

export type ErrorCode = keyof typeof ERRORS;

/** Fields the error body carries besides code and message (never secrets or upstream text). */
export interface ErrorDetails {
  /** The input at fault. */
  param?: string;
  /** The stored question the error is about. */
  id?: number;
}

export interface AppErrorOptions extends ErrorDetails {
  /** Headers beyond the code's own, such as a Retry-After the LLM gave. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error with a code from ERRORS; immutable once made. */
export class AppError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly details: Readonly<ErrorDetails>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    { param, id, headers, cause }: AppErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    const entry: { status: number; headers?: Record<string, string> } = ERRORS[code];
    this.status = entry.status;
    this.headers = { ...entry.headers, ...headers };
    this.details = {
      ...(param !== undefined && { param }),
      ...(id !== undefined && { id }),
    };
  }
}

export class InvalidRequestError extends AppError {
  constructor(message: string, param?: string) {
    super('invalid_request', message, { param });
  }
}

export class InvalidJsonError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('invalid_json', message, options);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The turn a new one was to follow was deleted (or lost its answer) before it was stored. */
export class ParentGoneError extends AppError {
  constructor(readonly parentId: number) {
    super('not_found', `turn ${parentId} is gone`);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(method: string, url: string, allow: readonly string[]) {
    super('method_not_allowed', `${method} is not allowed on ${url}; use ${allow.join(', ')}`, {
      headers: { allow: allow.join(', ') },
    });
  }
}

export class LlmNotConfiguredError extends AppError {
  constructor() {
    super('llm_not_configured', 'no LLM is configured: set OPENAI_API_KEY or OPENAI_BASE_URL');
  }
}

type LlmErrorCode =
  | 'llm_bad_response'
  | 'llm_unavailable'
  | 'llm_timeout'
  | 'llm_call_aborted'
  | 'interrupted'
  | 'llm_rejected_request';

/**
 * The LLM gave no answer; the question is stored as failed and the body carries its id.
 * The SDK's error, when there was one, is kept as `cause` (for the logs only).
 */
export class LlmError extends AppError {
  declare readonly code: LlmErrorCode;

  constructor(code: LlmErrorCode, message: string, options?: AppErrorOptions) {
    super(code, message, options);
  }

  /** The same error, about the stored question `id`. */
  withQuestionId(id: number): LlmError {
    return new LlmError(this.code, this.message, {
      ...this.details,
      id,
      headers: this.headers,
      cause: this.cause,
    });
  }
}

/**
 * The LLM answered a chat request with a 4xx of its own (a bad parameter, a context too long):
 * the client's request, not askbase or the LLM, is at fault, so /v1 relays the LLM's status
 * and error body as they were. Stored as failed with code `llm_rejected_request`.
 */
export class LlmRejectedRequestError extends LlmError {
  constructor(
    readonly upstreamStatus: number,
    readonly upstreamBody: Record<string, unknown>,
    options?: AppErrorOptions,
  ) {
    super(
      'llm_rejected_request',
      `the LLM rejected the request (status ${upstreamStatus})`,
      options,
    );
  }

  override withQuestionId(id: number): LlmError {
    return new LlmRejectedRequestError(this.upstreamStatus, this.upstreamBody, {
      ...this.details,
      id,
      headers: this.headers,
      cause: this.cause,
    });
  }
}

export class LlmBadResponseError extends LlmError {
  constructor(message: string, options?: AppErrorOptions) {
    super('llm_bad_response', message, options);
  }
}

export class LlmUnavailableError extends LlmError {
  constructor(message: string, options: AppErrorOptions & { retryAfterSeconds?: number } = {}) {
    const { retryAfterSeconds, ...rest } = options;
    super('llm_unavailable', message, {
      ...rest,
      ...(retryAfterSeconds !== undefined && {
        headers: { 'retry-after': String(retryAfterSeconds) },
      }),
    });
  }
}

export class LlmTimeoutError extends LlmError {
  constructor(message: string, options?: AppErrorOptions) {
    super('llm_timeout', message, options);
  }
}

/**
 * The caller's signal ended the LLM call (the ask's deadline, or shutdown); the lifecycle
 * replaces it with the reason it aborted for.
 */
export class LlmCallAbortedError extends LlmError {
  constructor(options?: AppErrorOptions) {
    super('llm_call_aborted', 'the LLM call was ended early', options);
  }
}

/** askbase stopped before the LLM answered; the question is stored as failed and can be retried. */
export class AskInterruptedError extends LlmError {
  constructor() {
    super(
      'interrupted',
      'askbase shut down before this question was answered; POST /qa/{id}/retry asks again',
    );
  }
}

export class DatabaseUnavailableError extends AppError {
  constructor(message: string, options?: AppErrorOptions) {
    super('database_unavailable', message, options);
  }
}

export class ModelNotAllowedError extends AppError {
  constructor(model: string) {
    super(
      'model_not_allowed',
      `the model "${model}" is not one askbase allows (GET /v1/models lists them)`,
      {
        param: 'model',
      },
    );
  }
}

export class ShuttingDownError extends AppError {
  constructor() {
    super('shutting_down', 'askbase is shutting down; retry shortly');
  }
}

export class RateLimitedError extends AppError {
  constructor(message: string) {
    super('rate_limited', message);
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super('unauthorized', 'a valid API key is required: Authorization: Bearer <key>');
  }
}

export class IdempotencyKeyReusedError extends AppError {
  constructor(id: number) {
    super(
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different question',
      { id },
    );
  }
}

export class RequestInProgressError extends AppError {
  constructor(id: number) {
    super(
      'request_in_progress',
      'a request with this Idempotency-Key is still being answered; retry later',
      { id },
    );
  }
}

export class NotRetryableError extends AppError {
  constructor(id: number, status: string, textStored = true) {
    super(
      'not_retryable',
      textStored
        ? `only failed questions can be retried; question ${id} is ${status}`
        : `question ${id} cannot be retried: its text was not stored`,
      { id },
    );
  }
}

/**
 * A failure already stored for a question, replayed to a client that repeats the request:
 * the stored code's own status, or 502 for a code this version does not know.
 */
export class StoredFailureError extends AppError {
  constructor(id: number, failure: { code: string; message: string }) {
    super(isErrorCode(failure.code) ? failure.code : 'llm_bad_response', failure.message, { id });
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}
