import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { ChatService } from '../gateway/chat-service.js';
import type { ResponsesService } from '../gateway/responses-service.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { BUILT_UI_DIR } from '../paths.js';
import type { QaService } from '../qa/qa-service.js';
import { logRequests } from './access-log.js';
import { openApiDocument, registerApiDocs } from './api-docs.js';
import { trackConnections } from './connection-tracking.js';
import { clientErrorHandler, errorHandler } from './error-handler.js';
import { acceptJsonBodies } from './json-body.js';
import { answerOtherMethodsWith405 } from './method-not-allowed.js';
import { conversationRoutes } from './routes/conversation-routes.js';
import { exportRoutes } from './routes/export-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { openAiRoutes } from './routes/openai-routes.js';
import { qaRoutes } from './routes/qa-routes.js';
import { responsesRoutes } from './routes/responses-routes.js';
import { statsRoutes } from './routes/stats-routes.js';
import { lazySerializers, lazyValidator } from './schema-compilers.js';
import { askCreatedEvent, askDeltaEvent, errorBody, questionAnswer } from './schemas.js';
import { type SharedRateLimitCounter, registerSecurity } from './security.js';
import { webUi } from './web-ui.js';

/** What the HTTP layer is given; src/server.ts builds every one of them. */
export interface AppServices {
  config: Pick<
    Config,
    'bodyLimitBytes' | 'chatBodyLimitBytes' | 'logLevel' | 'security' | 'uiEnabled'
  >;
  qa: QaService;
  /** The OpenAI-compatible gateway (/v1). */
  chat: ChatService;
  responses: ResponsesService;
  metrics: Metrics;
  /** For the readiness check. */
  database: Pick<Database, 'isReady' | 'ping'>;
  /** RATE_LIMIT_STORE=database: the counts every process shares; absent: counted in memory. */
  rateLimitCounter?: SharedRateLimitCounter | undefined;
  logger: Logger;
}

/** The Fastify app: HTTP only, over services built elsewhere. */
export async function buildApp({
  config,
  qa,
  chat,
  responses,
  metrics,
  database,
  rateLimitCounter,
  logger,
}: AppServices): Promise<FastifyInstance> {
  // askbase's pino logger, seen as Fastify's base logger type, which plugins and routes expect.
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // One access-log line per request (access-log.ts), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.security.trustProxy,
    // Shutdown refusals are ours (connection-tracking.ts), in the contract's error shape.
    return503OnClosing: false,
    // Errors the router and Node's HTTP parser raise get the contract's shape too.
    frameworkErrors: (error, request, reply) => {
      errorHandler(error, request, reply);
    },
    clientErrorHandler,
    // Node would answer a missing Host with a bare 400 of its own; the hook below answers it.
    http: { requireHostHeader: false },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers } },
  });

  app.setValidatorCompiler(lazyValidator);
  acceptJsonBodies(app);
  for (const schema of [errorBody, questionAnswer, askCreatedEvent, askDeltaEvent]) {
    app.addSchema(schema);
  }
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(async (request) => {
    throw new NotFoundError(`no route for ${request.method} ${request.url}`);
  });
  trackConnections(app);
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new InvalidRequestError('an HTTP/1.1 request must have a Host header');
    }
  });
  // Every answer names its request: the client's X-Request-Id, or the one made for it.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  logRequests(app, metrics);

  const limitAsks = await registerSecurity(app, config.security, rateLimitCounter);
  registerApiDocs(app, { apiKeysRequired: config.security.apiKeys.length > 0 });
  // askbase's own routes, in a scope where the other methods on each of their URLs are 405s.
  await app.register(async (api) => {
    answerOtherMethodsWith405(api, { corsEnabled: config.security.corsOrigins.length > 0 });
    await api.register(openApiDocument);
    await api.register(healthRoutes, { database, logLevel: config.logLevel });
    await api.register(qaRoutes, { qa, limitAsks });
    await api.register(conversationRoutes, { qa });
    await api.register(openAiRoutes, { chat, limitAsks, bodyLimit: config.chatBodyLimitBytes });
    await api.register(responsesRoutes, {
      responses,
      limitAsks,
      bodyLimit: config.chatBodyLimitBytes,
    });
    await api.register(exportRoutes, { qa });
    await api.register(statsRoutes, { qa });
    await api.register(metricsRoutes, { metrics });
    if (config.uiEnabled) await api.register(webUi, { dir: BUILT_UI_DIR });
  });
  return app;
}
