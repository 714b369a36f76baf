import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { DatabaseUnavailableError } from '../../errors.js';
import { methodNotAllowed } from '../method-not-allowed.js';
import { errorRef } from '../schemas.js';

const statusBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

export function healthRoutes(app: FastifyInstance, { database }: { database: Database }) {
  // Liveness: the process serves; deliberately independent of the database.
  app.get(
    '/is_up',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process serves',
        response: { 200: { ...statusBody, description: 'Serving' } },
      },
    },
    async () => ({ status: 'ok' }),
  );
  methodNotAllowed(app, '/is_up', ['GET']);

  // Readiness: the database answers (migrations ran before the server started listening).
  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database answers',
        response: { 200: { ...statusBody, description: 'Ready' }, 503: errorRef },
      },
    },
    async (request) => {
      try {
        await database.ping();
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check: database unreachable');
        throw new DatabaseUnavailableError('the database is not reachable');
      }
      return { status: 'ready' };
    },
  );
  methodNotAllowed(app, '/health/ready', ['GET']);
}
