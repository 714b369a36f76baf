import type { FastifyInstance } from 'fastify';
import type { LogLevel } from '../../config.js';
import type { Database } from '../../db/database.js';
import { DatabaseUnavailableError } from '../../errors.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import { errorRef } from '../schemas.js';

/** From the most verbose to none at all. */
const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

const statusBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

export function healthRoutes(
  app: FastifyInstance,
  {
    database,
    corsEnabled,
    logLevel: configured,
  }: { database: Pick<Database, 'isReady' | 'ping'>; corsEnabled: boolean; logLevel: LogLevel },
) {
  // Probes run every few seconds, so their request lines are logged only at warn and above,
  // and never more than LOG_LEVEL allows.
  const logLevel = LEVELS.indexOf(configured) > LEVELS.indexOf('warn') ? configured : 'warn';
  // Liveness: the process serves; deliberately independent of the database.
  app.get(
    '/is_up',
    {
      logLevel,
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process serves',
        security: [],
        response: { 200: { ...statusBody, description: 'Serving' } },
      },
    },
    async () => ({ status: 'ok' }),
  );
  methodNotAllowed(app, '/is_up', ['GET'], { corsEnabled });

  // Readiness: migrations are applied and the database answers right now.
  app.get(
    '/health/ready',
    {
      logLevel,
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database is reachable and migrated',
        security: [],
        response: { 200: { ...statusBody, description: 'Ready' }, 503: errorRef },
      },
    },
    async (request) => {
      if (!database.isReady()) {
        throw new DatabaseUnavailableError('the database is not connected or not migrated yet');
      }
      try {
        await database.ping();
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check: database unreachable');
        throw new DatabaseUnavailableError('the database is not reachable');
      }
      return { status: 'ready' };
    },
  );
  methodNotAllowed(app, '/health/ready', ['GET'], { corsEnabled });
}
