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

export class DatabaseUnavailableError extends AppError {
  readonly statusCode = 503;
  readonly code = 'database_unavailable';
}
