import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { levels } from 'pino';
import type { LogLevel } from '../../config.js';
import type { Database } from '../../db/database.js';
import { DatabaseUnavailableError } from '../../errors.js';
import { errorResponses } from '../schemas.js';

const statusBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

export interface HealthRoutesOptions {
  /** For the readiness check. */
  database: Pick<Database, 'isReady' | 'ping'>;
  logLevel: LogLevel;
}

/** Liveness and readiness, open without a key for orchestrators. */
export const healthRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: HealthRoutesOptions;
}> = async (app, { database, logLevel: configured }) => {
  // Probes run every few seconds, so their request lines are logged only at warn and above,
  // and never more than LOG_LEVEL allows.
  const severity = (level: LogLevel) => levels.values[level] ?? Infinity; // silent: above all
  const logLevel = severity(configured) > severity('warn') ? configured : 'warn';
  // Liveness: the process serves; deliberately independent of the database.
  app.get(
    '/is_up',
    {
      logLevel,
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process serves',
        security: [],
        response: { 200: { ...statusBody, description: 'Serving' } },
      },
    },
    async () => ({ status: 'ok' }),
  );

  // Readiness: migrations are applied and the database answers right now.
  app.get(
    '/health/ready',
    {
      logLevel,
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database is reachable and migrated',
        security: [],
        response: {
          200: { ...statusBody, description: 'Ready' },
          ...errorResponses(['invalid_request', 'database_unavailable', 'shutting_down']),
        },
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
};
