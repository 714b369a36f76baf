import { randomUUID } from 'node:crypto';
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OpenAIAnswerer } from './answerer/openai-answerer.js';
import { OpenAIResponsesUpstream } from './answerer/openai-responses-upstream.js';
import { OpenAIChatUpstream } from './answerer/openai-chat-upstream.js';
import { createOpenAIClient } from './answerer/openai-client.js';
import { type Config, isLlmConfigured } from './config.js';
import { connectAndMigrate } from './db/connect.js';
import { databaseOptions } from './db/database-options.js';
import { CONNECT_TIMEOUT_MS, type Database, openDatabase } from './db/database.js';
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
import { Housekeeping } from './server/housekeeping.js';
import { PortInUseError, ensurePortFree } from './server/port-probe.js';
import { logStartupSummary } from './server/startup-summary.js';

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
  const housekeeping = new Housekeeping({
    recover: () => recovery.run(recoveryMarginMs(config.durability)),
    recoveryIntervalMs: config.durability.spoolReplayIntervalMs,
    jobs: [
      retention && { name: 'retention', run: () => retention.purge() },
      {
        name: 'search indexing',
        run: (signal) => backfillSearchTerms(repository, logger, signal),
      },
      rateLimitCounter && { name: 'rate-limit cleanup', run: () => rateLimitCounter.forgetIdle() },
      leases && { name: 'lease cleanup', run: () => leases.forgetExpired() },
    ],
    signal: stopping.signal,
    logger,
  });

  // Closing, step 1 (before in-flight requests finish): stop connecting and recovering, and
  // start the grace: when it is over, asks still waiting on the LLM are ended, stored as
  // interrupted and their clients told so, which lets the requests, and so close(), finish.
  let grace: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    stopping.abort();
    housekeeping.stop();
    grace = setTimeout(() => attempts.interruptAll(), config.shutdownGraceMs);
  });
  // Step 2 (after they finished): asks whose client went away still run; their outcomes are
  // stored before the database closes. The bound only matters if storing itself hangs.
  app.addHook('onClose', async () => {
    try {
      const { unfinished } = await attempts.drain(config.shutdownGraceMs + STORE_MARGIN_MS);
      if (unfinished > 0) logger.warn({ unfinished }, 'asks still unfinished at close');
      await housekeeping.settled();
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
  logStartupSummary(logger, config, options, port);

  const ready = connectAndMigrate(database, {
    backoffMaxMs: config.durability.connectBackoffMaxMs,
    logger,
    signal: stopping.signal,
  }).then(async () => {
    if (stopping.signal.aborted) return;
    lease?.start();
    await housekeeping.start();
  });

  return {
    app,
    database,
    qa,
    recovery,
    retention,
    housekeep: () => housekeeping.housekeep(),
    port,
    ready,
    stop: () => app.close(),
  };
}
