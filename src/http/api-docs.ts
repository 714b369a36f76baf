import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ROOT } from '../paths.js';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

/**
 * The OpenAPI 3.1 document, built from the route schemas themselves so it cannot drift from
 * what the server validates (served by `openApiDocument`); Swagger UI at GET /docs, its assets
 * served from the package (no CDN, so it works offline), open without a key. Register before
 * the routes it describes.
 */
export function registerApiDocs(
  app: FastifyInstance,
  { apiKeysRequired }: { apiKeysRequired: boolean },
): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'askbase',
        version,
        description:
          'Ask an LLM, keep every answer. Errors share one shape: {"error": {"code", "message"}}.',
      },
      tags: [
        { name: 'questions', description: 'Ask, read back, list, search and delete' },
        { name: 'operations', description: 'Health checks and metrics' },
      ],
      // With API_KEYS set every route but the health checks and these docs needs a key; the
      // docs page's Authorize button sends it.
      ...(apiKeysRequired && {
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              description: 'One of the keys in API_KEYS, sent as `Authorization: Bearer <key>`',
            },
          },
        },
        security: [{ apiKey: [] }],
      }),
    },
    // Shared schemas keep their $id as their name under components/schemas.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  app.register(async (docs) => {
    // Swagger UI's routes are its own: each is marked open without a key here.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: true },
    });
  });
}

/** GET /openapi.json: the OpenAPI document, open without a key. */
export const openApiDocument: FastifyPluginAsync = async (app) => {
  app.get(
    '/openapi.json',
    {
      config: { public: true },
      schema: { hide: true, response: { 200: { type: 'object', additionalProperties: true } } },
    },
    async () => app.swagger(),
  );
};
