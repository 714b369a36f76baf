import type { FastifyRequest } from 'fastify';
import { LlmRejectedRequestError } from '../errors.js';
import type { ErrorResponse } from './error-response.js';

/** The routes that speak OpenAI's API, errors included. */
export function isOpenAiRoute(request: FastifyRequest): boolean {
  return isOpenAiPath(request.url);
}

/** Whether a URL (a route's, or a request's with its query) is one of OpenAI's API. */
export function isOpenAiPath(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');
}

/** OpenAI's `type` for each status, which the official clients show beside the message. */
function typeOf(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * An error in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the
 * status the official clients turn into their typed errors (BadRequestError,
 * AuthenticationError, RateLimitError, …). askbase's code is the `code`; the stored exchange's
 * id, when there is one, rides along as `askbase_id`. The LLM's own refusal of a request is
 * relayed as the LLM sent it.
 */
export function toOpenAiError(error: unknown, response: ErrorResponse): ErrorResponse {
  if (error instanceof LlmRejectedRequestError) {
    return {
      status: error.upstreamStatus,
      headers: { ...response.headers },
      body: error.upstreamBody as ErrorResponse['body'],
    };
  }
  const { code, message, param, id } = response.body.error;
  return {
    status: response.status,
    headers: response.headers,
    body: {
      error: {
        message,
        type: typeOf(response.status),
        param: typeof param === 'string' ? param : null,
        code,
        ...(typeof id === 'number' && { askbase_id: id }),
      },
    },
  };
}
