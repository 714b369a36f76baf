import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode } from '../errors.js';
import type { ErrorResponse } from './error-response.js';
import { isOpenAiRoute, toOpenAiError } from './openai-errors.js';

interface ErrorReply {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Fastify's own client errors, by their code, as the contract's codes (and so statuses). */
const FRAMEWORK_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    message: 'body is empty; expected a JSON object',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'Content-Type must be application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'payload_too_large',
    message: 'body is larger than the limit',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid_request' },
  FST_ERR_BAD_URL: {
    code: 'invalid_request',
    message: 'the URL is not valid: a percent-encoded sequence is malformed',
  },
  // The router refuses a path parameter over 100 characters before any route sees it; it is
  // as invalid as a shorter id that is not a number.
  FST_ERR_MAX_PARAM_LENGTH: {
    code: 'invalid_request',
    message: 'a path parameter is longer than 100 characters',
  },
};

/**
 * Requests that Node's HTTP parser rejects (NUL in the path or a header, an unknown method,
 * headers over 16 KB, conflicting Content-Length and Transfer-Encoding) never reach Fastify's
 * routing: the answer is written to the socket, in the contract's shape, and it is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['headers_too_large', 'the request line and headers are larger than 16 KB']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['request_timeout', 'the request was not received in time']
        : ['invalid_request', 'the request is not valid HTTP/1.1'];
  const { status } = ERRORS[code];
  const body = JSON.stringify({ error: { code, message } });
  // As Node's own handler: only on a connection that has not sent anything yet. When the
  // parser fails after a request on it was answered, a second response would read as the
  // first one's body.
  if (socket.writable && (socket as Socket).bytesWritten === 0) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy();
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const response = toErrorResponse(error, request);
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * The contract's error shape for any error (OpenAI's on the /v1 routes); unexpected ones are
 * logged and never described.
 */
export function toErrorResponse(error: unknown, request: FastifyRequest): ErrorResponse {
  const mapped = toErrorReply(asFastifyError(error));
  if (mapped.status >= 500 && !(error instanceof AppError)) {
    request.log.error({ err: error }, 'unhandled error');
  }
  const response = {
    status: mapped.status,
    headers: mapped.headers ?? {},
    body: { error: { code: mapped.code, message: mapped.message, ...mapped.details } },
  };
  return isOpenAiRoute(request) ? toOpenAiError(error, response) : response;
}

function asFastifyError(error: unknown): FastifyError {
  return error instanceof Error
    ? (error as FastifyError)
    : (new Error(String(error)) as FastifyError);
}

function toErrorReply(error: FastifyError): ErrorReply {
  if (error instanceof AppError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      details: { ...error.details },
      headers: { ...error.headers },
    };
  }
  if (error.validation) {
    const first = error.validation[0];
    const missing = first?.params.missingProperty;
    // The path to the input at fault, and the missing property under it: `messages.0.role`.
    const path = first?.instancePath.split('/').filter(Boolean) ?? [];
    if (typeof missing === 'string') path.push(missing);
    const param = path.join('.') || undefined;
    return {
      status: 400,
      code: 'invalid_request',
      message: error.message,
      details: param ? { param } : {},
    };
  }
  const known = error.code ? FRAMEWORK_ERRORS[error.code] : undefined;
  if (known) {
    return {
      status: ERRORS[known.code].status,
      code: known.code,
      message: known.message ?? error.message,
    };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, code: 'invalid_request', message: error.message };
  }
  return { status: 500, code: 'internal_error', message: 'internal server error' };
}
