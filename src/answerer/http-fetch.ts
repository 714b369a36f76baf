import type { Readable, Transform } from 'node:stream';
import {
  brotliDecompressSync,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  gunzipSync,
  inflateSync,
} from 'node:zlib';
import { Agent, type Dispatcher, request } from 'undici';

/**
 * The `fetch` askbase gives the OpenAI SDK: undici's `request` over a kept-alive connection
 * pool, instead of the global fetch (undici's fetch), which spends nearly twice the CPU per call
 * on WHATWG request and response objects, clones and abort signals (BENCHMARKS.md, (l)).
 *
 * It keeps fetch's contract where the SDK and askbase rely on it: a failed connection rejects
 * with `TypeError('fetch failed')` (the SDK retries it), an abort rejects with an `AbortError`
 * (the SDK tells its own timeout from the caller's abort), and a body cut short errors with
 * `TypeError('terminated')`. An event stream is handed on chunk by chunk as it arrives; any
 * other body is read whole before the promise resolves, so the SDK's timeout covers it too.
 * Redirects are returned, not followed: an API endpoint that redirects is misconfigured.
 *
 * Only what the SDK sends (a string body, or none, over http or https) is handled here;
 * anything else goes to the global fetch.
 */
export const httpFetch: typeof fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const body = init?.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string';
  if (url === undefined || !simpleBody || !/^https?:/i.test(url)) return fetch(input, init);
  return send(url, init ?? {}, body ?? undefined);
};

/** One pool per process, as the global fetch has: the SDK's calls share its connections. */
const dispatcher = new Agent();

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

async function send(url: string, init: RequestInit, body: string | undefined): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) throw abortError();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: init.method ?? 'GET',
      headers,
      body,
      signal,
      dispatcher,
    });
  } catch (error) {
    throw signal?.aborted ? abortError() : new TypeError('fetch failed', { cause: error });
  }
  const status = response.statusCode;
  const responseInit = { status, headers: headersOf(response.headers) };
  const encoding = headerValue(response.headers['content-encoding'])?.trim().toLowerCase();

  if (NULL_BODY_STATUSES.has(status)) {
    response.body.resume();
    return new Response(null, responseInit);
  }
  if (/^text\/event-stream\b/i.test(headerValue(response.headers['content-type']) ?? '')) {
    return new Response(eventStream(response.body, encoding, signal), responseInit);
  }
  try {
    const bytes = decodedSync(Buffer.from(await response.body.arrayBuffer()), encoding);
    return new Response(
      new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length),
      responseInit,
    );
  } catch (error) {
    if (signal?.aborted) throw abortError();
    // As fetch does: the headers came, so the promise resolves; reading the body fails.
    return new Response(failingBody(terminated(error)), responseInit);
  }
}

/** The body as a web stream, chunk by chunk as it arrives, read no faster than it is taken. */
function eventStream(
  body: Dispatcher.ResponseData['body'],
  encoding: string | undefined,
  signal: AbortSignal | undefined,
): ReadableStream<Uint8Array> {
  const source = decoded(body, encoding);
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const fail = (error: Error) => {
        if (finished) return;
        finished = true;
        controller.error(error);
      };
      source.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if ((controller.desiredSize ?? 1) <= 0) source.pause();
      });
      source.once('end', () => {
        if (finished) return;
        finished = true;
        controller.close();
      });
      source.on('error', (error) => fail(signal?.aborted ? abortError() : terminated(error)));
      signal?.addEventListener('abort', () => fail(abortError()), { once: true });
    },
    pull() {
      source.resume();
    },
    cancel() {
      finished = true;
      body.destroy();
    },
  });
}

function headersOf(raw: Dispatcher.ResponseData['headers']): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      try {
        headers.append(name, one);
      } catch {
        // a header fetch would refuse too: left out rather than failing the response
      }
    }
  }
  return headers;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The content codings fetch decodes, as a stream (event streams) and at once (the rest). */
const DECODERS = new Map<string, { stream: () => Transform; whole: (bytes: Buffer) => Buffer }>([
  ['gzip', { stream: createGunzip, whole: gunzipSync }],
  ['x-gzip', { stream: createGunzip, whole: gunzipSync }],
  ['deflate', { stream: createInflate, whole: inflateSync }],
  ['br', { stream: createBrotliDecompress, whole: brotliDecompressSync }],
]);

function decoded(body: Readable, encoding: string | undefined): Readable {
  const decoder = encoding === undefined ? undefined : DECODERS.get(encoding)?.stream();
  if (!decoder) return body;
  body.on('error', (error) => decoder.destroy(error));
  return body.pipe(decoder);
}

function decodedSync(bytes: Buffer, encoding: string | undefined): Buffer {
  const decode = encoding === undefined ? undefined : DECODERS.get(encoding)?.whole;
  return decode ? decode(bytes) : bytes;
}

function failingBody(error: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error(error) });
}

/** What the global fetch reports for a body cut short. */
function terminated(cause?: unknown): TypeError {
  return new TypeError('terminated', cause === undefined ? undefined : { cause });
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}
