import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import {
  InvalidJsonError,
  InvalidRequestError,
  NotFoundError,
  ShuttingDownError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ChatService } from '../gateway/chat-service.js';
import type { ResponsesService } from '../gateway/responses-service.js';
import type { QaService } from '../qa/qa-service.js';
import { BUILT_UI_DIR } from '../paths.js';
import { openApiDocument, registerApiDocs } from './api-docs.js';
import { isDateTime } from './date-time-format.js';
import { clientErrorHandler, errorHandler } from './error-handler.js';
import { streamOutcomeStatus } from './event-stream.js';
import { answerOtherMethodsWith405 } from './method-not-allowed.js';
import { conversationRoutes } from './routes/conversation-routes.js';
import { exportRoutes } from './routes/export-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { openAiRoutes } from './routes/openai-routes.js';
import { responsesRoutes } from './routes/responses-routes.js';
import { qaRoutes } from './routes/qa-routes.js';
import { statsRoutes } from './routes/stats-routes.js';
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

// Query strings, headers and path parameters arrive as text and are coerced ("?limit=5");
// JSON bodies are not, so {"question": 42} is rejected instead of becoming "42". One pair per
// process: the route schemas are constants, so an app built again (tests build dozens) finds
// its validators compiled in Ajv's cache.
const ajvOptions = { useDefaults: true, removeAdditional: true, allErrors: false } as const;
const coercing = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
const strict = new Ajv({ ...ajvOptions, coerceTypes: false });
for (const ajv of [coercing, strict]) ajv.addFormat('date-time', isDateTime);

/**
 * A route's validator, compiled when the route first validates a request rather than when the
 * app is built: compiling every route's at start was about 0.2 s of askbase's start (a fifth of
 * it). The first request of each route pays its few milliseconds instead.
 */
function compiledOnFirstUse(ajv: Ajv, schema: AnySchema): ValidateFunction {
  let compiled: ValidateFunction | undefined;
  const compile = () => (compiled ??= ajv.compile(schema));
  const validate = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const run = compile();
    const valid = run(data, context);
    validate.errors = run.errors;
    return valid;
  }) as ValidateFunction;
  // Fastify gives Ajv's own validators the request as the parent of what they validate (so
  // that Ajv can coerce a root value), telling them apart by this property.
  Object.defineProperty(validate, 'schemaEnv', { get: () => compile().schemaEnv });
  return validate;
}

// The response serializers Fastify compiles per route and status (fast-json-stringify): also
// compiled on first use, and kept per process (Fastify keeps them per app), keyed by the
// schemas they serialize.
const serializers = new Map<string, SerializerSelector.Serializer>();
const buildSerializers = SerializerSelector();
function cachedSerializers(
  externalSchemas?: unknown,
  options?: SerializerSelector.Options,
): SerializerSelector.SerializerCompiler {
  const compile = buildSerializers(externalSchemas, options);
  const scope = JSON.stringify([externalSchemas, options]);
  return (route) => {
    let serializer: SerializerSelector.Serializer | undefined;
    return (doc) => {
      if (!serializer) {
        const key = `${scope}${JSON.stringify(route.schema)}`;
        serializer = serializers.get(key);
        if (!serializer) serializers.set(key, (serializer = compile(route)));
      }
      return serializer(doc);
    };
  };
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
    // One access-log line per request (the onResponse hook below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.security.trustProxy,
    // Shutdown refusals are ours (below), in the contract's error shape.
    return503OnClosing: false,
    // Errors the router and Node's HTTP parser raise get the contract's shape too.
    frameworkErrors: (error, request, reply) => {
      errorHandler(error, request, reply);
    },
    clientErrorHandler,
    // Node would answer a missing Host with a bare 400 of its own; the hook below answers it.
    http: { requireHostHeader: false },
    schemaController: { compilersFactory: { buildSerializer: cachedSerializers } },
  });

  app.setValidatorCompiler(({ schema, httpPart }) =>
    compiledOnFirstUse(httpPart === 'body' ? strict : coercing, schema),
  );

  // JSON only: anything else, text/plain included, is 415 rather than a confusing 400.
  app.removeContentTypeParser('text/plain');
  // Read as bytes so that invalid UTF-8 is refused, not silently replaced with U+FFFD and
  // stored; then Fastify's own parser (which also refuses __proto__ keys).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(new InvalidJsonError('body is not valid UTF-8'), undefined);
    return parseJson(request, bytes.toString('utf8'), done);
  });
  for (const schema of [errorBody, questionAnswer, askCreatedEvent, askDeltaEvent]) {
    app.addSchema(schema);
  }
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(async (request) => {
    throw new NotFoundError(`no route for ${request.method} ${request.url}`);
  });
  // From the moment close() begins, every response closes its connection, so no keep-alive
  // client holds the server open, and requests that still arrive are refused.
  let closing = false;
  // Connections with no request in flight: opened and not used yet (browsers open them
  // ahead), or between keep-alive requests. Node's close waits for them until their headers
  // time out (a minute); a stop closes them at once instead.
  const idle = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    idle.add(socket);
    socket.once('close', () => idle.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    idle.delete(request.socket);
    response.once('finish', () => {
      if (!request.socket.destroyed) idle.add(request.socket);
    });
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const socket of idle) socket.destroy();
  });
  app.addHook('onRequest', async (request) => {
    if (closing) throw new ShuttingDownError();
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new InvalidRequestError('an HTTP/1.1 request must have a Host header');
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  // Streams count too: Fastify runs onResponse when a hijacked reply finishes.
  // A stream's status line always says 200; it is counted with the status its outcome had.
  app.addHook('onResponse', async (request, reply) => {
    const statusCode = streamOutcomeStatus(request) ?? reply.statusCode;
    metrics.httpRequest({
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      statusCode,
      seconds: reply.elapsedTime / 1000,
    });
    // The path without its query string: a search (q=…) may quote what was stored.
    const query = request.url.indexOf('?');
    request.log.info(
      {
        method: request.method,
        path: query === -1 ? request.url : request.url.slice(0, query),
        statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  });

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
