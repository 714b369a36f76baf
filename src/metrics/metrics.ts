import cluster from 'node:cluster';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database, PoolStats } from '../db/database.js';
import type { LlmCall, LlmCallRecorder } from '../qa/ports.js';
import { joinClusterMetrics, scrapeCluster } from './cluster-metrics.js';

export interface HttpRequestRecord {
  method: string;
  /** The route pattern (`/qa/:id`), never the raw URL, so the label set stays small. */
  route: string;
  statusCode: number;
  seconds: number;
}

/**
 * askbase's Prometheus metrics, in a registry of their own: several apps in one process (as in
 * the tests) each count only their own traffic, and nothing lands in prom-client's global one.
 */
export class Metrics implements LlmCallRecorder {
  private readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'askbase_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: 'askbase_http_request_duration_seconds',
    help: 'Time from request to response, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    // Asks wait on the LLM, so the buckets reach well past typical API latencies.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  private readonly llmCalls = new Counter({
    name: 'askbase_llm_calls_total',
    help: 'LLM calls by outcome: answered, or the error code (llm_unavailable, llm_timeout, llm_bad_response)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly llmDuration = new Histogram({
    name: 'askbase_llm_call_duration_seconds',
    help: 'LLM round trip, retries and the whole of a streamed answer included, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });

  private readonly llmTokens = new Counter({
    name: 'askbase_llm_tokens_total',
    help: 'Tokens the LLM reported using, by kind (prompt or completion)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly cacheLookups = new Counter({
    name: 'askbase_answer_cache_lookups_total',
    help: 'Answer cache lookups (CACHE_TTL_SECONDS): hit, miss, or waited for an identical ask in flight',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly retentionDeleted = new Counter({
    name: 'askbase_retention_deleted_total',
    help: 'Questions deleted because they were older than RETENTION_DAYS',
    registers: [this.registry],
  });

  /**
   * The database's counters are read at each scrape: PostgreSQL's pool, or the embedded
   * database's fsyncs (one connection to its thread, no pool).
   */
  constructor(database: Pick<Database, 'poolStats' | 'fileSyncs'>) {
    collectDefaultMetrics({ register: this.registry });
    if (database.poolStats() !== undefined) this.registerPoolGauges(() => database.poolStats());
    if (database.fileSyncs() !== undefined) this.registerFileSyncs(() => database.fileSyncs());
    if (cluster.isWorker) joinClusterMetrics(this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Every metric in the Prometheus text exposition format: with WORKERS, summed over every
   * worker (src/metrics/cluster-metrics.ts).
   */
  scrape(): Promise<string> {
    return cluster.isWorker ? scrapeCluster() : this.registry.metrics();
  }

  cacheLookup(result: 'hit' | 'miss' | 'waited'): void {
    this.cacheLookups.inc({ result });
  }

  retention(deleted: number): void {
    this.retentionDeleted.inc(deleted);
  }

  httpRequest({ method, route, statusCode, seconds }: HttpRequestRecord): void {
    const labels = { method, route, status_code: String(statusCode) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  llmCall({ outcome, seconds, usage }: LlmCall): void {
    this.llmCalls.inc({ outcome });
    this.llmDuration.observe({ outcome }, seconds);
    if (usage) {
      this.llmTokens.inc({ kind: 'prompt' }, usage.promptTokens);
      this.llmTokens.inc({ kind: 'completion' }, usage.completionTokens);
    }
  }

  private registerFileSyncs(fileSyncs: () => number | undefined): void {
    new Counter({
      name: 'askbase_embedded_fsyncs_total',
      help: 'Files the embedded database synced to disk (EMBEDDED_FSYNC): its log at each commit, data at each checkpoint',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(fileSyncs() ?? 0);
      },
    });
  }

  private registerPoolGauges(poolStats: () => PoolStats | undefined): void {
    const gauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const stats = poolStats();
          if (stats) this.set(read(stats));
        },
      });
    gauge(
      'askbase_db_pool_connections_in_use',
      'Database connections checked out of the pool',
      (stats) => stats.total - stats.idle,
    );
    gauge(
      'askbase_db_pool_connections_idle',
      'Database connections open and idle in the pool',
      (stats) => stats.idle,
    );
    gauge(
      'askbase_db_pool_requests_waiting',
      'Queries waiting for a free database connection',
      (stats) => stats.waiting,
    );
    gauge(
      'askbase_db_pool_connections_max',
      'Most database connections the pool opens (DB_POOL_MAX)',
      (stats) => stats.max,
    );
  }
}
