import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * askbase's one logger: JSON lines, the Authorization header redacted, and errors reduced to
 * what cannot carry stored text. A failed query's error carries its parameters (a question,
 * an answer) in its message, stack and `params`, and PostgreSQL's `detail` may quote a row,
 * so those never reach a log line at any level.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization'],
        censor: '[redacted]',
      },
      serializers: { err: safeError },
    },
    destination,
  );
}

interface SafeError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SafeError;
}

/** Type, code, a message that cannot quote stored text, the stack frames, and the cause, likewise. */
export function safeError(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: '[not an Error]' };
  const type = error.constructor.name || error.name;
  const message = safeMessage(error);
  const code = (error as { code?: unknown }).code;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return {
    type,
    message,
    ...(typeof code === 'string' && { code }),
    stack: [`${type}: ${message}`, ...frames].join('\n'),
    ...(error.cause !== undefined && depth < 5 && { cause: safeError(error.cause, depth + 1) }),
  };
}

/**
 * PostgreSQL's classes whose messages may quote a value: data exceptions (22), what a function
 * raises (P0), internal errors (XX). Other classes name only objects (a table, a constraint).
 */
const QUOTING_SQL_STATES = /^(22|P0|XX)/;

/**
 * An error's message, unless it may quote what was sent or stored: the LLM's error text (an
 * upstream may echo the request), a parser's (V8 quotes the JSON it could not read), and
 * PostgreSQL's of the classes that quote values. Their kind is logged instead.
 */
function safeMessage(error: Error): string {
  const {
    status,
    code,
    error: body,
  } = error as { status?: unknown; code?: unknown; error?: unknown };
  // The openai SDK's APIError: the status says what happened; the text is the upstream's.
  if (typeof status === 'number' && 'error' in error) {
    const upstreamCode =
      typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
    const named = typeof upstreamCode === 'string' && /^[\w.-]{1,64}$/.test(upstreamCode);
    return `the LLM answered ${status}${named ? ` (${upstreamCode})` : ''}; its text is not logged`;
  }
  if (error instanceof SyntaxError) return 'malformed JSON; its text is not logged';
  if (typeof code === 'string' && 'severity' in error && QUOTING_SQL_STATES.test(code)) {
    return `PostgreSQL error ${code}; its text is not logged`;
  }
  return withoutParams(error.message);
}

/** Drizzle writes "Failed query: <sql>\nparams: <values>"; the SQL has only placeholders. */
function withoutParams(message: string): string {
  const at = message.indexOf('\nparams:');
  return at === -1 ? message : `${message.slice(0, at)}\nparams: [not logged]`;
}
