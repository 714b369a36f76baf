import { randomUUID } from 'node:crypto';
import { Ajv } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Answerer } from '../answerer/answerer.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { Metrics } from '../metrics/metrics.js';
import { QaService } from '../qa/qa-service.js';
import { QuestionRepository } from '../repository/question-repository.js';
import { registerApiDocs } from './api-docs.js';
import { isDateTime } from './date-time-format.js';
import { errorHandler } from './error-handler.js';
import { healthRoutes } from './routes/health-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { qaRoutes } from './routes/qa-routes.js';
import { errorBody, questionAnswer } from './schemas.js';

export interface AppDeps {
  config: Config;
  database: Database;
  /** Undefined when no LLM is configured. */
  answerer: Answerer | undefined;
  logger: FastifyBaseLogger;
}

declare module 'fastify' {
  interface FastifyInstance {
    qa: QaService;
  }
}

export function buildApp({ config, database, answerer, logger }: AppDeps): FastifyInstance {
  const metrics = new Metrics(() => database.poolStats());
  const qa = new QaService({
    repository: new QuestionRepository(database.db),
    answerer,
    maxQuestionLength: config.maxQuestionLength,
    logger,
    llmCalls: metrics,
  });

  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Keep-alive clients get `Connection: close` while shutting down, in-flight requests finish.
    return503OnClosing: true,
  });

  // Query strings and path parameters arrive as text and are coerced ("?limit=5");
  // JSON bodies are not, so {"question": 42} is rejected instead of becoming "42".
  const coercing = new Ajv({
    coerceTypes: 'array',
    useDefaults: true,
    removeAdditional: true,
    allErrors: false,
  });
  const strict = new Ajv({
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: true,
    allErrors: false,
  });
  for (const ajv of [coercing, strict]) ajv.addFormat('date-time', isDateTime);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );

  // JSON only: anything else, text/plain included, is 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  app.decorate('qa', qa);
  app.addSchema(errorBody);
  app.addSchema(questionAnswer);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'not_found', message: `no route for ${request.method} ${request.url}` },
    }),
  );
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Streams count too: Fastify runs onResponse when a hijacked reply finishes.
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
    });
  });

  registerApiDocs(app);
  app.register(async (scope) => {
    healthRoutes(scope, { database });
    qaRoutes(scope, { qa });
    metricsRoutes(scope, { metrics });
  });
  return app;
}
