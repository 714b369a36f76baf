import { randomUUID } from 'node:crypto';
import cluster from 'node:cluster';
import { createServer as createNetServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { OpenAIAnswerer } from './answerer/openai-answerer.js';
import { OpenAIResponsesUpstream } from './answerer/openai-responses-upstream.js';
import { OpenAIChatUpstream } from './answerer/openai-chat-upstream.js';
import { createOpenAIClient } from './answerer/openai-client.js';
import { type Config, isLlmConfigured } from './config.js';
import { databaseOptions } from './db/database-options.js';
import {
  CONNECT_TIMEOUT_MS,
  type Database,
  type DatabaseOptions,
  isConnectionError,
  openDatabase,
} from './db/database.js';
import { ChatService } from './gateway/chat-service.js';
import { ResponsesRoute } from './gateway/responses-call.js';
import { ResponsesService } from './gateway/responses-service.js';
import { buildApp } from './http/app.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics/metrics.js';
import { AnswerAttempts } from './qa/answer-attempts.js';
import { OutcomeRecorder } from './qa/outcome-recorder.js';
import { OutcomeSpool } from './qa/outcome-spool.js';
import { ModelPrices } from './pricing/model-prices.js';
import { Lease } from './qa/lease.js';
import { Recovery } from './qa/recovery.js';
import { QaService } from './qa/qa-service.js';
import { Retention } from './qa/retention.js';
import { ConversationRepository } from './repository/conversation-repository.js';
import { LeaseRepository } from './repository/lease-repository.js';
import { QuestionRepository } from './repository/question-repository.js';
import { RateLimitCounter } from './repository/rate-limit-counter.js';
import { backfillSearchTerms } from './repository/search-backfill.js';

/**
 * How often the housekeeping runs (RETENTION_DAYS' job, then the search index's backfill); it
 * also runs once the database is ready.
 */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

/**
 * How long after an attempt's deadline its outcome may still be on its way to the database:
 * every store attempt (each up to the pool's connect timeout) and the backoff between them,
 * before it spools. A row still pending later than that lost its process.
 */
function recoveryMarginMs({ storeAttempts, storeBackoffMs }: Config['durability']): number {
  return storeBackoffMs * (2 ** (storeAttempts - 1) - 1) + storeAttempts * CONNECT_TIMEOUT_MS;
}
/** The longest storing the outcomes of interrupted asks may take at shutdown. */
export const STORE_MARGIN_MS = 10_000;

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  qa: QaService;
  /** Crash recovery, which also runs at start and every SPOOL_REPLAY_INTERVAL_MS. */
  recovery: Recovery;
  /** RETENTION_DAYS' job, when it is set; it also runs every HOUSEKEEPING_INTERVAL_MS. */
  retention: Retention | undefined;
  /**
   * Runs the housekeeping now (or joins the run in progress) and resolves when it is done;
   * it also runs once ready and every HOUSEKEEPING_INTERVAL_MS.
   */
  housekeep(): Promise<void>;
  /** The port actually listened on (PORT=0 picks a free one). */
  port: number;
  /** Resolves once the database is migrated and recovery has run; rejects if it never can be. */
  ready: Promise<void>;
  /** `app.close()`: the one way to stop (see the close hooks below). */
  stop(): Promise<void>;
}

/**
 * The composition root: builds every service once, hands them to the HTTP app, and ties their
 * lifecycle to Fastify's, so `app.close()` stops everything in order. It starts serving at
 * once; the database may still be down: the server connects and migrates in the background,
 * answering 503 until it is ready, then replays spooled outcomes and fails interrupted
 * questions, and keeps doing so periodically.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  // Before the embedded database is opened, which takes seconds and must then be closed again.
  // A cluster worker's port is the primary's, which checked it (and holds it by now).
  if (!cluster.isWorker) await ensurePortFree(config.host, config.port);
  const options = databaseOptions(config, logger);
  const database = await openDatabase(options);
  // In a spool directory replicas share (SPOOL_DIR), each host has its own family of slots.
  const spool = config.spoolDir
    ? await OutcomeSpool.openFreeSlot(resolve(config.spoolDir), logger, config.instanceName)
    : await OutcomeSpool.openFreeSlot(resolve(config.dataDir), logger);
  const client = isLlmConfigured(config.openai) ? createOpenAIClient(config.openai) : undefined;
  const answerer = client && new OpenAIAnswerer(client, config.openai, logger);
  const upstream = client && new OpenAIChatUpstream(client, config.openai, logger);
  const responsesRoute =
    client &&
    upstream &&
    new ResponsesRoute(
      new OpenAIResponsesUpstream(client, config.openai, logger),
      upstream,
      config.responsesApi,
      () =>
        logger.info(
          'the LLM serves no /v1/responses: askbase translates them to chat completions (RESPONSES_API)',
        ),
    );
  if (!client) {
    logger.warn('no LLM configured (OPENAI_API_KEY or OPENAI_BASE_URL): /ask and /v1 answer 503');
  }
  const metrics = new Metrics(database);
  // Which pending rows are this process's own (see `owner` in the schema): an instance is a
  // host and a spool slot, which one process at a time holds; a restart is a new owner of it.
  const instance = `${config.instanceName}:${spool.directory}`;
  const owner = `${instance}#${randomUUID()}`;
  const repository = new QuestionRepository(database, owner);
  const leases = database.driver === 'postgres' ? new LeaseRepository(database) : undefined;
  const lease =
    leases &&
    new Lease({ store: leases, owner, instance, ttlMs: config.durability.leaseTtlMs, logger });
  await spool.markOwner(owner);
  const conversations = new ConversationRepository(database);
  const outcomes = new OutcomeRecorder({
    store: repository,
    spool,
    storeAttempts: config.durability.storeAttempts,
    storeBackoffMs: config.durability.storeBackoffMs,
    // A shared SPOOL_DIR: a gone host's spool is claimed once its lease expired, and only
    // while this process may judge (see Lease).
    foreign: config.spoolDir && lease ? { owner, gone: (other) => lease.isGone(other) } : undefined,
    logger,
  });
  const attempts = new AnswerAttempts({
    outcomes,
    prices: new ModelPrices(config.modelPrices),
    llmCalls: metrics,
    askTimeoutMs: config.askTimeoutMs,
  });
  const qa = new QaService({
    repository,
    conversations,
    answerer,
    attempts,
    maxQuestionLength: config.maxQuestionLength,
    storeText: config.storeText,
    cache: {
      ttlSeconds: config.cacheTtlSeconds,
      model: config.openai.model,
      systemPrompt: config.openai.systemPrompt,
    },
    cacheLookups: (result) => metrics.cacheLookup(result),
    askTimeoutMs: config.askTimeoutMs,
    logger,
  });
  const recovery = new Recovery({
    outcomes,
    store: repository,
    exclusiveDatabase: database.driver === 'pglite',
    lease,
    leases,
    logger,
  });
  const chat = new ChatService({
    repository,
    conversations,
    upstream,
    attempts,
    storeText: config.storeText,
    allowedModels: config.allowedModels,
    askTimeoutMs: config.askTimeoutMs,
    cacheTtlSeconds: config.cacheTtlSeconds,
    cacheLookups: (result) => metrics.cacheLookup(result),
  });
  const responses = new ResponsesService({
    repository,
    conversations,
    route: responsesRoute,
    attempts,
    storeText: config.storeText,
    allowedModels: config.allowedModels,
    askTimeoutMs: config.askTimeoutMs,
  });
  const retention =
    config.retentionDays === undefined
      ? undefined
      : new Retention({
          store: repository,
          days: config.retentionDays,
          logger,
          deleted: (count) => metrics.retention(count),
        });
  const rateLimitCounter =
    config.security.rateLimitMax > 0 && config.security.rateLimitStore === 'database'
      ? new RateLimitCounter(database)
      : undefined;
  const app = await buildApp({
    config,
    qa,
    chat,
    responses,
    metrics,
    database,
    rateLimitCounter,
    logger,
  });

  const stopping = new AbortController();
  let maintenance: NodeJS.Timeout | undefined;
  let housekeepingTimer: NodeJS.Timeout | undefined;
  let recovering: Promise<void> | undefined;
  let housekeeping: Promise<void> | undefined;
  const housekeep = () => {
    return (housekeeping ??= (async () => {
      await retention
        ?.purge()
        .catch((error: unknown) => logger.warn({ err: error }, 'retention deferred'));
      await backfillSearchTerms(repository, logger, stopping.signal).catch((error: unknown) =>
        logger.warn({ err: error }, 'search indexing deferred'),
      );
      await rateLimitCounter
        ?.forgetIdle()
        .catch((error: unknown) => logger.warn({ err: error }, 'rate-limit cleanup deferred'));
      await leases
        ?.forgetExpired()
        .catch((error: unknown) => logger.warn({ err: error }, 'lease cleanup deferred'));
    })().finally(() => (housekeeping = undefined)));
  };
  const recover = () => {
    recovering ??= recovery
      .run(recoveryMarginMs(config.durability))
      .catch((error: unknown) => logger.warn({ err: error }, 'recovery deferred'))
      .finally(() => (recovering = undefined));
    return recovering;
  };

  // Closing, step 1 (before in-flight requests finish): stop connecting and recovering, and
  // start the grace: when it is over, asks still waiting on the LLM are ended, stored as
  // interrupted and their clients told so, which lets the requests, and so close(), finish.
  let grace: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    stopping.abort();
    clearInterval(maintenance);
    clearInterval(housekeepingTimer);
    grace = setTimeout(() => attempts.interruptAll(), config.shutdownGraceMs);
  });
  // Step 2 (after they finished): asks whose client went away still run; their outcomes are
  // stored before the database closes. The bound only matters if storing itself hangs.
  app.addHook('onClose', async () => {
    try {
      const { unfinished } = await attempts.drain(config.shutdownGraceMs + STORE_MARGIN_MS);
      if (unfinished > 0) logger.warn({ unfinished }, 'asks still unfinished at close');
      await recovering;
      await housekeeping;
    } finally {
      clearTimeout(grace);
      // Every ask is stored (or spooled, and this instance's next process replays it).
      await lease?.stop();
      spool.close();
      await database.close();
    }
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    // Taken between the check above and now.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(config.host, config.port);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const summary = startupSummary(config, options, port);
  logger.info(
    summary,
    `askbase listening on ${summary.url}; database: ${summary.database}; LLM: ${summary.llm}; API docs: ${summary.docs}`,
  );

  const ready = connect(database, config, logger, stopping.signal).then(async () => {
    if (stopping.signal.aborted) return;
    lease?.start();
    await recover();
    maintenance = setInterval(() => void recover(), config.durability.spoolReplayIntervalMs);
    maintenance.unref();
    void housekeep();
    housekeepingTimer = setInterval(() => void housekeep(), HOUSEKEEPING_INTERVAL_MS);
    housekeepingTimer.unref();
  });

  return {
    app,
    database,
    qa,
    recovery,
    retention,
    housekeep,
    port,
    ready,
    stop: () => app.close(),
  };
}

/** Another process listens on the port askbase was told to use. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(host: string, port: number) {
    super(`port ${port} on ${host} is already in use; stop what listens there, or set PORT`);
  }
}

/** Rejects with PortInUseError when another process listens on the port. */
export function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Where askbase listens and what it talks to, for the one line a person reads at start. */
function startupSummary(config: Config, options: DatabaseOptions, port: number) {
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const database =
    'url' in options
      ? `PostgreSQL at ${withoutUser(options.url)}`
      : // Whether an answer survives a power loss: said where a user looks first.
        `embedded PGlite in ${options.dataDir} (${
          options.fsync === false
            ? 'EMBEDDED_FSYNC=false: not synced to disk, a power loss may lose recent answers'
            : 'each commit synced to disk'
        })`;
  const llm = isLlmConfigured(config.openai)
    ? `${config.openai.baseUrl ? withoutCredentials(config.openai.baseUrl) : 'the OpenAI API'}, model ${config.openai.model}`
    : 'none configured (/ask answers 503)';
  return { url, database, llm, docs: `${url}/docs` };
}

/** Host, port and database only: never the user or password. */
function withoutUser(raw: string): string {
  const { hostname, port, pathname } = new URL(raw);
  return `${hostname}:${port || 5432}${pathname}`;
}

function withoutCredentials(raw: string): string {
  const url = new URL(raw);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}

/** Migrates, retrying with capped exponential backoff while the database cannot be reached. */
async function connect(database: Database, config: Config, logger: Logger, signal: AbortSignal) {
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    try {
      await database.migrate();
      logger.info({ driver: database.driver, attempt }, 'database ready, migrations applied');
      return;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      const retryInMs = Math.min(250 * 2 ** attempt, config.durability.connectBackoffMaxMs);
      logger.warn(
        { attempt, retryInMs, reason: (error as Error).message },
        'database not reachable yet; retrying',
      );
      await sleep(retryInMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
