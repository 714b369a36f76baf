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

/** Type, code, a message without query parameters, the stack frames, and the cause, likewise. */
export function safeError(error: unknown, depth = 0): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: '[not an Error]' };
  const type = error.constructor.name || error.name;
  const message = withoutParams(error.message);
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

/** Drizzle writes "Failed query: <sql>\nparams: <values>"; the SQL has only placeholders. */
function withoutParams(message: string): string {
  const at = message.indexOf('\nparams:');
  return at === -1 ? message : `${message.slice(0, at)}\nparams: [not logged]`;
}
