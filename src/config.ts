import { availableParallelism, hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { PriceOverride } from './pricing/model-prices.js';

/** How /v1/responses may reach the LLM (RESPONSES_API; see gateway/responses-call.ts). */
export const RESPONSES_API_MODES = ['auto', 'native', 'translate'] as const;
export type ResponsesApiMode = (typeof RESPONSES_API_MODES)[number];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface OpenAIConfig {
  apiKey: string | undefined;
  baseUrl: string | undefined;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  systemPrompt: string | undefined;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * EMBEDDED_FSYNC: the embedded database syncs each commit to disk, so an answer it returned
   * survives a power loss. false for tests and throwaway data: faster, not durable.
   */
  embeddedFsync: boolean;
  /**
   * SPOOL_DIR: where the answer spools live; unset, in DATA_DIR. Set to a directory that every
   * replica shares, a spool whose process is gone for good is replayed by another (PostgreSQL).
   */
  spoolDir: string | undefined;
  /** INSTANCE_NAME: this process's host as spools and leases name it; the hostname unless set. */
  instanceName: string;
  /** Per process: each worker has a pool of its own. */
  dbPoolMax: number;
  /** askbase processes sharing the port (node:cluster); 1 runs no cluster at all. */
  workers: number;
  openai: OpenAIConfig;
  /** The most one ask may take, every LLM retry and a whole stream included. */
  askTimeoutMs: number;
  maxQuestionLength: number;
  bodyLimitBytes: number;
  /** The largest /v1 request body: a chat request carries its whole conversation. */
  chatBodyLimitBytes: number;
  /** ALLOWED_MODELS: when non-empty, the only models /v1 requests may name (and /v1/models lists). */
  allowedModels: string[];
  /**
   * RESPONSES_API: how /v1/responses reaches the LLM: `auto` (its own /v1/responses until it
   * answers 404, then translated), `native` or `translate`.
   */
  responsesApi: ResponsesApiMode;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** Serve the web page at `/`. */
  uiEnabled: boolean;
  /** Whether asks keep their question and answer text unless they say `"store": false`. */
  storeText: boolean;
  /** How long an answer may answer an identical ask again; 0 turns the cache off. */
  cacheTtlSeconds: number;
  /** MODEL_PRICES: per model, USD per 1,000,000 tokens, over the built-in prices. */
  modelPrices: Record<string, PriceOverride>;
  /** Questions created longer ago than this are deleted; undefined keeps them forever. */
  retentionDays: number | undefined;
  durability: DurabilityConfig;
  security: SecurityConfig;
}

export interface DurabilityConfig {
  /** Attempts to store an answer before it goes to the spool, and the first backoff. */
  storeAttempts: number;
  storeBackoffMs: number;
  /** How often spooled answers are replayed while the spool is not empty. */
  spoolReplayIntervalMs: number;
  /** Longest wait between attempts to reach the database at start. */
  connectBackoffMaxMs: number;
  /**
   * LEASE_TTL_MS (PostgreSQL): how long after a process's last heartbeat its pending asks are
   * failed as interrupted by the others.
   */
  leaseTtlMs: number;
}

export interface SecurityConfig {
  /** Asks per client per window; 0 turns rate limiting off. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /**
   * Where the counts live: `database` (shared by every process on the database: replicas and
   * workers keep one budget per client) or `memory` (this process only).
   */
  rateLimitStore: 'memory' | 'database';
  /**
   * When non-empty, every route but the health checks and pages needs `Authorization: Bearer
   * <key>`. Each key has a name, stored with what it asks (the key itself never is).
   */
  apiKeys: ApiKey[];
  /** Origins allowed by CORS; empty means CORS is off. */
  corsOrigins: string[];
  /** Trust X-Forwarded-For from a reverse proxy to find the client address. */
  trustProxy: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** Reads the environment once; `.env` in the working directory fills what the environment leaves unset. */
export function loadConfig(env: Env = readProcessEnv()): Config {
  const read = reader(env);
  const databaseUrl = read.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const config: Config = {
    port: read.integer('PORT', 3000, { min: 0, max: 65535 }),
    host: read.string('HOST', '127.0.0.1'),
    databaseUrl,
    dataDir: read.string('DATA_DIR', './data'),
    embeddedFsync: read.boolean('EMBEDDED_FSYNC', true),
    spoolDir: read.optional('SPOOL_DIR'),
    instanceName: read.string('INSTANCE_NAME', hostname()),
    dbPoolMax: read.integer('DB_POOL_MAX', 10, { min: 1, max: 1000 }),
    // `auto` is what this setup can use: the embedded database lives in one process.
    workers:
      read.optional('WORKERS') === 'auto'
        ? databaseUrl === undefined
          ? 1
          : availableParallelism()
        : read.integer('WORKERS', 1, { min: 1, max: 256 }),
    openai: {
      apiKey: read.optional('OPENAI_API_KEY'),
      baseUrl: read.url('OPENAI_BASE_URL', ['http:', 'https:']),
      model: read.string('OPENAI_MODEL', 'gpt-5-mini'),
      timeoutMs: read.integer('OPENAI_TIMEOUT_MS', 60_000, { min: 1, max: 3_600_000 }),
      maxRetries: read.integer('OPENAI_MAX_RETRIES', 2, { min: 0, max: 10 }),
      systemPrompt: read.optional('SYSTEM_PROMPT'),
    },
    askTimeoutMs: read.integer('ASK_TIMEOUT_MS', 120_000, { min: 100, max: 3_600_000 }),
    maxQuestionLength: read.integer('MAX_QUESTION_LENGTH', 4000, { min: 1, max: 1_000_000 }),
    bodyLimitBytes: read.integer('BODY_LIMIT_BYTES', 65_536, { min: 1024, max: 100 * 1024 * 1024 }),
    chatBodyLimitBytes: read.integer('CHAT_BODY_LIMIT_BYTES', 10 * 1024 * 1024, {
      min: 1024,
      max: 100 * 1024 * 1024,
    }),
    allowedModels: read.list('ALLOWED_MODELS'),
    responsesApi: read.oneOf('RESPONSES_API', RESPONSES_API_MODES, 'auto'),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownGraceMs: read.integer('SHUTDOWN_GRACE_MS', 30_000, { min: 0, max: 3_600_000 }),
    uiEnabled: read.boolean('UI_ENABLED', true),
    storeText: read.boolean('STORE_TEXT', true),
    modelPrices: modelPrices(read.optional('MODEL_PRICES')),
    cacheTtlSeconds: read.integer('CACHE_TTL_SECONDS', 0, { min: 0, max: 31_536_000 }),
    retentionDays:
      read.optional('RETENTION_DAYS') === undefined
        ? undefined
        : read.integer('RETENTION_DAYS', 0, { min: 1, max: 36_500 }),
    durability: {
      storeAttempts: read.integer('ANSWER_STORE_ATTEMPTS', 5, { min: 1, max: 100 }),
      storeBackoffMs: read.integer('ANSWER_STORE_BACKOFF_MS', 200, { min: 1, max: 60_000 }),
      spoolReplayIntervalMs: read.integer('SPOOL_REPLAY_INTERVAL_MS', 2_000, {
        min: 10,
        max: 600_000,
      }),
      connectBackoffMaxMs: read.integer('DB_CONNECT_BACKOFF_MAX_MS', 10_000, {
        min: 10,
        max: 600_000,
      }),
      leaseTtlMs: read.integer('LEASE_TTL_MS', 10_000, { min: 500, max: 3_600_000 }),
    },
    security: {
      // Off by default: a local service that refuses the 61st question of a minute surprises
      // everyone; turn it on when askbase is reachable beyond this machine.
      rateLimitMax: read.integer('RATE_LIMIT_MAX', 0, { min: 0, max: 1_000_000 }),
      rateLimitWindowMs: read.integer('RATE_LIMIT_WINDOW_MS', 60_000, {
        min: 1_000,
        max: 86_400_000,
      }),
      // Shared where several processes may serve one database; the embedded one has one.
      rateLimitStore: read.oneOf(
        'RATE_LIMIT_STORE',
        ['memory', 'database'] as const,
        databaseUrl === undefined ? 'memory' : 'database',
      ),
      apiKeys: apiKeys(read.list('API_KEYS')),
      corsOrigins: read.list('CORS_ORIGINS'),
      trustProxy: read.boolean('TRUST_PROXY', false),
    },
  };
  if (databaseUrl === undefined && config.workers > 1) {
    throw new ConfigError(
      'WORKERS above 1 needs DATABASE_URL: the embedded database belongs to one process',
    );
  }
  return config;
}

/** MODEL_PRICES: `{"model": {"input": 0.15, "output": 0.6, "cached_input": 0.075}}`. */
function modelPrices(raw: string | undefined): Record<string, PriceOverride> {
  if (raw === undefined) return {};
  const invalid = (why: string) =>
    new ConfigError(
      `MODEL_PRICES must be JSON like {"gpt-5-mini": {"input": 0.25, "output": 2, "cached_input": 0.025}} (USD per 1M tokens): ${why}`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid('it is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('it is not an object');
  }
  const price = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0;
  const prices: Record<string, PriceOverride> = {};
  for (const [model, entry] of Object.entries(parsed)) {
    const { input, output, cached_input } = (entry ?? {}) as Record<string, unknown>;
    if (!price(input) || !price(output) || (cached_input !== undefined && !price(cached_input))) {
      throw invalid(
        `the price of "${model}" needs input and output (and may have cached_input) as numbers ≥ 0`,
      );
    }
    prices[model] = {
      input: input as number,
      output: output as number,
      ...(cached_input !== undefined && { cached_input: cached_input as number }),
    };
  }
  return prices;
}

export interface ApiKey {
  name: string;
  key: string;
}

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * API_KEYS entries are `name:key`, or a bare key, named by its position (`key1`, `key2`, …).
 * Errors name the entry by position only: the value is a secret.
 */
function apiKeys(entries: string[]): ApiKey[] {
  const keys = entries.map((entry, index): ApiKey => {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    if (KEY_NAME.test(name) && colon < entry.length - 1) {
      return { name, key: entry.slice(colon + 1) };
    }
    return { name: `key${index + 1}`, key: entry };
  });
  const names = new Set(keys.map((k) => k.name));
  if (names.size < keys.length) {
    throw new ConfigError('API_KEYS must not name two keys alike');
  }
  return keys;
}

/** True when askbase can reach an LLM at all: a key for the OpenAI API, or another endpoint. */
export function isLlmConfigured(openai: OpenAIConfig): boolean {
  return openai.apiKey !== undefined || openai.baseUrl !== undefined;
}

function readProcessEnv(): Env {
  const fromFile = existsSync('.env') ? parseEnv(readFileSync('.env', 'utf8')) : {};
  return { ...fromFile, ...process.env };
}

function reader(env: Env) {
  const optional = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const fail = (name: string, expected: string): never => {
    throw new ConfigError(`${name} must be ${expected}`);
  };

  return {
    optional,
    string: (name: string, fallback: string): string => optional(name) ?? fallback,
    integer(name: string, fallback: number, range: { min: number; max: number }): number {
      const raw = optional(name);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
        fail(name, `an integer from ${range.min} to ${range.max} (got "${raw}")`);
      }
      return value;
    },
    list(name: string): string[] {
      return (optional(name) ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    },
    boolean(name: string, fallback: boolean): boolean {
      const raw = optional(name)?.toLowerCase();
      if (raw === undefined) return fallback;
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      return fail(name, `true or false (got "${raw}")`);
    },
    oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
      const raw = optional(name);
      if (raw === undefined) return fallback;
      if (!(allowed as readonly string[]).includes(raw)) {
        fail(name, `one of ${allowed.join(', ')} (got "${raw}")`);
      }
      return raw as T;
    },
    // The value itself may carry a password, so the message never repeats it.
    url(name: string, protocols: string[]): string | undefined {
      const raw = optional(name);
      if (raw === undefined) return undefined;
      let protocol: string;
      try {
        protocol = new URL(raw).protocol;
      } catch {
        return fail(name, `a valid URL`);
      }
      if (!protocols.includes(protocol))
        fail(name, `a URL starting with ${protocols.join(' or ')}`);
      return raw;
    },
  };
}
