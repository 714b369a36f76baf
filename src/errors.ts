/**
 * Typed errors that the HTTP error handler maps to the contract's error shape.
 * `details` are extra fields for the error body (never secrets or upstream text).
 */
export abstract class AppError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  details: Record<string, unknown> = {};
  headers: Record<string, string> = {};
}

export class InvalidRequestError extends AppError {
  readonly statusCode = 400;
  readonly code = 'invalid_request';
  constructor(message: string, param?: string) {
    super(message);
    if (param !== undefined) this.details.param = param;
  }
}

export class InvalidJsonError extends AppError {
  readonly statusCode = 400;
  readonly code = 'invalid_json';
}

export class NotFoundError extends AppError {
  readonly statusCode = 404;
  readonly code = 'not_found';
}

export class LlmNotConfiguredError extends AppError {
  readonly statusCode = 503;
  readonly code = 'llm_not_configured';
  constructor() {
    super('no LLM is configured: set OPENAI_API_KEY or OPENAI_BASE_URL');
  }
}

/** The LLM failed; the question is stored as failed and the body carries its id. */
export abstract class LlmError extends AppError {
  withQuestionId(id: number): this {
    this.details.id = id;
    return this;
  }
}

export class LlmBadResponseError extends LlmError {
  readonly statusCode = 502;
  readonly code = 'llm_bad_response';
}

export class LlmUnavailableError extends LlmError {
  readonly statusCode = 503;
  readonly code = 'llm_unavailable';
  constructor(message: string, retryAfterSeconds?: number) {
    super(message);
    if (retryAfterSeconds !== undefined) this.headers['retry-after'] = String(retryAfterSeconds);
  }
}

export class LlmTimeoutError extends LlmError {
  readonly statusCode = 504;
  readonly code = 'llm_timeout';
}

/**
 * The caller's signal ended the LLM call (the ask's deadline, or shutdown); the lifecycle
 * replaces it with the reason it aborted for.
 */
export class LlmCallAbortedError extends LlmError {
  readonly statusCode = 503;
  readonly code = 'llm_call_aborted';
  constructor() {
    super('the LLM call was ended early');
  }
}

/** askbase stopped before the LLM answered; the question is stored failed and can be retried. */
export class AskInterruptedError extends LlmError {
  readonly statusCode = 503;
  readonly code = 'interrupted';
  constructor() {
    super('askbase shut down before this question was answered; POST /qa/{id}/retry asks again');
    this.headers['retry-after'] = '1';
  }
}

export class DatabaseUnavailableError extends AppError {
  readonly statusCode = 503;
  readonly code = 'database_unavailable';
}

export class ShuttingDownError extends AppError {
  readonly statusCode = 503;
  readonly code = 'shutting_down';
  constructor() {
    super('askbase is shutting down; retry shortly');
    this.headers['retry-after'] = '1';
  }
}

export class RateLimitedError extends AppError {
  readonly statusCode = 429;
  readonly code = 'rate_limited';
}

export class UnauthorizedError extends AppError {
  readonly statusCode = 401;
  readonly code = 'unauthorized';
  constructor() {
    super('a valid API key is required: Authorization: Bearer <key>');
    this.headers['www-authenticate'] = 'Bearer';
  }
}

export class IdempotencyKeyReusedError extends AppError {
  readonly statusCode = 422;
  readonly code = 'idempotency_key_reused';
  constructor(id: number) {
    super('this Idempotency-Key was already used with a different question');
    this.details.id = id;
  }
}

export class RequestInProgressError extends AppError {
  readonly statusCode = 409;
  readonly code = 'request_in_progress';
  constructor(id: number) {
    super('a request with this Idempotency-Key is still being answered; retry later');
    this.details.id = id;
    this.headers['retry-after'] = '1';
  }
}

export class NotRetryableError extends AppError {
  readonly statusCode = 409;
  readonly code = 'not_retryable';
  constructor(id: number, status: string) {
    super(`only failed questions can be retried; question ${id} is ${status}`);
    this.details.id = id;
  }
}

const FAILURE_STATUS: Record<string, number> = {
  llm_bad_response: 502,
  llm_unavailable: 503,
  llm_timeout: 504,
  interrupted: 503,
};

/** A failure already stored for a question, replayed to a client that repeats the request. */
export class StoredFailureError extends AppError {
  readonly statusCode: number;
  readonly code: string;
  constructor(id: number, failure: { code: string; message: string }) {
    super(failure.message);
    this.code = failure.code;
    this.statusCode = FAILURE_STATUS[failure.code] ?? 502;
    this.details.id = id;
  }
}
