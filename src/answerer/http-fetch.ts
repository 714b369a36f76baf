import http from 'node:http';
import https from 'node:https';
import type { Readable, Transform } from 'node:stream';
import {
  brotliDecompressSync,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  gunzipSync,
  inflateSync,
} from 'node:zlib';

/**
 * The `fetch` askbase gives the OpenAI SDK: node:http(s) with keep-alive sockets instead of
 * Node's built-in fetch (undici), which spends about half a millisecond of CPU more per call
 * on WHATWG streams, request clones and abort signals (BENCHMARKS.md: an SDK call costs
 * 0.92–0.95 ms of CPU with Node's fetch, 0.45–0.52 ms with this one).
 *
 * It keeps fetch's contract where the SDK and askbase rely on it: a failed connection rejects
 * with `TypeError('fetch failed')` (the SDK retries it), an abort rejects with an `AbortError`
 * (the SDK tells its own timeout from the caller's abort), and a body cut short errors with
 * `TypeError('terminated')`. An event stream is handed on chunk by chunk as it arrives; any
 * other body is read whole before the promise resolves, so the SDK's timeout covers it too.
 * Redirects are returned, not followed: an API endpoint that redirects is misconfigured.
 *
 * Only what the SDK sends for chat completions is handled here (a string body, or none, over
 * http or https); anything else goes to the global fetch.
 */
export const httpFetch: typeof fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const body = init?.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string';
  if (url === undefined || !simpleBody || !/^https?:/i.test(url)) return fetch(input, init);
  return send(new URL(url), init ?? {}, body ?? undefined);
};

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function send(url: URL, init: RequestInit, body: string | undefined): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortError());
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const client = url.protocol === 'https:' ? https : http;

  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    // Set while a streamed body is being read: failures after the promise resolved go there.
    let failStream: ((error: Error) => void) | undefined;
    const fail = (error: Error) => {
      if (!settled) {
        settled = true;
        reject(error);
        return;
      }
      const failed = failStream;
      failStream = undefined;
      failed?.(error);
    };
    let received = false;
    const respond = (response: Response) => {
      if (settled) return;
      settled = true;
      resolve(response);
    };

    const request = client.request(url, { method: init.method ?? 'GET', headers }, (response) => {
      received = true;
      try {
        receive(response, request, respond, (handler) => (failStream = handler), done);
      } catch (error) {
        response.destroy();
        fail(new TypeError('fetch failed', { cause: error }));
      }
    });
    const onAbort = () => {
      const error = abortError();
      request.destroy(error);
      fail(error);
    };
    const done = () => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    // `on`, not `once`: an error event with no listener would end the process.
    request.on('error', (error) => {
      done();
      if (signal?.aborted) fail(abortError());
      else if (!received) fail(new TypeError('fetch failed', { cause: error }));
      // A streamed body errors; a buffered one cut short is reported by the response's close.
      else if (settled) fail(terminated(error));
    });
    request.once('close', () => {
      // The connection went before any response came.
      if (!received) fail(new TypeError('fetch failed'));
    });
    request.end(body);
  });
}

function receive(
  response: http.IncomingMessage,
  request: http.ClientRequest,
  respond: (response: Response) => void,
  onStreamFailure: (handler: (error: Error) => void) => void,
  done: () => void,
) {
  const status = response.statusCode ?? 0;
  const init = { status, headers: headersOf(response.rawHeaders) };
  const encoding = response.headers['content-encoding']?.trim().toLowerCase();

  if (NULL_BODY_STATUSES.has(status)) {
    response.resume();
    response.once('close', done);
    respond(new Response(null, init));
    return;
  }

  if (/^text\/event-stream\b/i.test(response.headers['content-type'] ?? '')) {
    const source = decoded(response, encoding);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        onStreamFailure((error) => {
          done();
          controller.error(error);
        });
        source.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
        source.once('end', () => {
          done();
          onStreamFailure(() => {});
          controller.close();
        });
        source.on('error', (error) => controller.error(terminated(error)));
        response.once('close', () => {
          if (!response.complete) controller.error(terminated());
        });
      },
      pull() {
        source.resume();
      },
      cancel() {
        done();
        onStreamFailure(() => {});
        request.destroy();
      },
    });
    respond(new Response(stream, init));
    return;
  }

  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.once('close', () => {
    done();
    // As fetch does: the headers came, so the promise resolves; reading the body fails.
    if (!response.complete) respond(new Response(failingBody(terminated()), init));
  });
  response.once('end', () => {
    let bytes: Buffer;
    try {
      bytes = decodedSync(Buffer.concat(chunks), encoding);
    } catch (error) {
      respond(new Response(failingBody(terminated(error)), init));
      return;
    }
    respond(
      new Response(
        new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length),
        init,
      ),
    );
  });
}

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i] ?? '', raw[i + 1] ?? '');
    } catch {
      // a header fetch would refuse too: left out rather than failing the response
    }
  }
  return headers;
}

/** The content codings fetch decodes, as a stream (event streams) and at once (the rest). */
const DECODERS = new Map<string, { stream: () => Transform; whole: (bytes: Buffer) => Buffer }>([
  ['gzip', { stream: createGunzip, whole: gunzipSync }],
  ['x-gzip', { stream: createGunzip, whole: gunzipSync }],
  ['deflate', { stream: createInflate, whole: inflateSync }],
  ['br', { stream: createBrotliDecompress, whole: brotliDecompressSync }],
]);

function decoded(response: http.IncomingMessage, encoding: string | undefined): Readable {
  const decoder = encoding === undefined ? undefined : DECODERS.get(encoding)?.stream();
  if (!decoder) return response;
  response.on('error', (error) => decoder.destroy(error));
  return response.pipe(decoder);
}

function decodedSync(bytes: Buffer, encoding: string | undefined): Buffer {
  const decode = encoding === undefined ? undefined : DECODERS.get(encoding)?.whole;
  return decode ? decode(bytes) : bytes;
}

function failingBody(error: Error): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.error(error) });
}

/** What Node's fetch reports for a body cut short. */
function terminated(cause?: unknown): TypeError {
  return new TypeError('terminated', cause === undefined ? undefined : { cause });
}

function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}
