import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import helmet, { type HelmetOptions } from 'helmet';
import rateLimit, {
  type FastifyRateLimitStore,
  type FastifyRateLimitStoreCtor,
} from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { SecurityConfig } from '../config.js';
import { RateLimitedError, UnauthorizedError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the API key the request came with (API_KEYS), once it was checked. */
    keyName: string | undefined;
  }
  interface FastifyContextConfig {
    /**
     * Open without a key: what orchestrators probe, and the pages (the web page and the API
     * documentation), which must load before a person can enter a key in them.
     */
    public?: boolean;
  }
}

/** Counts a client's hits where every askbase process sees them (RATE_LIMIT_STORE=database). */
export interface SharedRateLimitCounter {
  hit(key: string, windowMs: number): Promise<{ hits: number; resetInMs: number }>;
}

/**
 * helmet's headers, worked out once. They depend only on the options, yet @fastify/helmet
 * runs helmet anew on every request (building its middlewares and parsing the CSP each
 * time): 3.5% of askbase's CPU serving GET /qa/{id} under load.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): ReadonlyMap<string, string> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  // helmet 8 throws a bad option itself; the callback's error is for older versions.
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error) => {
    if (error) throw error instanceof Error ? error : new Error('helmet refused its options');
  });
  return headers;
}

/**
 * Security headers, optional API keys, optional CORS, and the rate limiter (counting in
 * `sharedCounter` when given, else in memory). Returns the hook that limits asks, one budget
 * per client shared by every route that asks the LLM, or undefined when rate limiting is off.
 */
export async function registerSecurity(
  app: FastifyInstance,
  config: SecurityConfig,
  sharedCounter?: SharedRateLimitCounter,
): Promise<preHandlerAsyncHookHandler | undefined> {
  const headers = securityHeaders({
    // askbase is often served over plain HTTP on a private address; upgrading the /docs
    // page's own script requests to https would break it there.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  // On the raw response, as helmet itself does, so streamed (hijacked) replies carry them too.
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      maxAge: 600,
      // What a page on another origin may read besides the body: which row an exchange or ask
      // was stored as, its conversation, the next page, when to retry.
      exposedHeaders: [
        'x-askbase-id',
        'x-askbase-conversation-id',
        'x-request-id',
        'link',
        'retry-after',
      ],
    });
  }
  app.decorateRequest('keyName', undefined);
  if (config.apiKeys.length > 0) {
    const keys = config.apiKeys.map(({ name, key }) => ({ name, digest: digest(key) }));
    app.addHook('onRequest', async (request) => {
      // Optional: Fastify gives some requests that match no route a context without one.
      if (request.routeOptions.config?.public) return;
      const presented = bearerToken(request);
      if (presented === undefined) throw new UnauthorizedError();
      // Every key is compared, and digests have equal length, so the time taken says nothing
      // about which key (if any) matched.
      const presentedDigest = digest(presented);
      const match = keys.reduce<string | undefined>(
        (found, key) => (timingSafeEqual(key.digest, presentedDigest) ? key.name : found),
        undefined,
      );
      if (match === undefined) throw new UnauthorizedError();
      request.keyName = match;
    });
  }
  await app.register(rateLimit, {
    global: false,
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    // Per client: the API key's name when keys are in use (authentication ran first), else
    // the client address. Never the key, nor a hash of it: the counts may be kept in the
    // database (RATE_LIMIT_STORE=database).
    keyGenerator: (request) =>
      request.keyName === undefined ? `ip:${request.ip}` : `key:${request.keyName}`,
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(`too many requests; retry in ${context.after}`),
    ...(sharedCounter && {
      store: sharedStore(sharedCounter),
      // Counting needs the database, and so does every ask: while it is away the ask gets its
      // own 503, not a 500 from the limiter.
      skipOnError: true,
    }),
  });
  // Without options the handler counts in the plugin's one store, so every route given this
  // hook draws on the same budget (per-route configs would each get a store of their own).
  return config.rateLimitMax > 0 ? app.rateLimit() : undefined;
}

/** @fastify/rate-limit's store, over the shared counter; one budget for every route that uses it. */
function sharedStore(counter: SharedRateLimitCounter): FastifyRateLimitStoreCtor {
  return class SharedStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      counter.hit(key, timeWindow).then(
        ({ hits, resetInMs }) => callback(null, { current: hits, ttl: resetInMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
