import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from '../../src/answerer/http-fetch.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A server whose every path is a handler the test sets; it counts the connections it took. */
function useServer() {
  const handlers = new Map<string, Handler>();
  const state = { server: undefined as Server | undefined, url: '', connections: 0 };
  beforeAll(async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const handler = handlers.get(req.url ?? '');
        if (handler) handler(req, res, Buffer.concat(chunks).toString('utf8'));
        else res.writeHead(404).end();
      });
    });
    server.on('connection', () => (state.connections += 1));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    state.server = server;
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    state.server?.closeAllConnections();
    await new Promise((resolve) => state.server?.close(resolve));
  });
  let next = 0;
  return {
    state,
    /** Serves `handler` under a path of its own and returns the path's URL. */
    route(handler: Handler): string {
      next += 1;
      handlers.set(`/r${next}`, handler);
      return `${state.url}/r${next}`;
    },
  };
}

const reasonOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error & { cause?: { code?: string } },
  );

describe('httpFetch, the SDK’s fetch over undici’s request', () => {
  const server = useServer();

  it('when a JSON response comes, then its status, headers and body read as fetch’s would, and the request carried method, headers and body', async () => {
    let seen: { method?: string; auth?: string; body?: string } = {};
    const url = server.route((req, res, body) => {
      seen = { method: req.method, auth: req.headers.authorization, body };
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'abc' });
      res.end('{"ok":true}');
    });

    const response = await httpFetch(url, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: '{"q":1}',
    });

    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-request-id')).toBe('abc');
    expect(await response.json()).toEqual({ ok: true });
    expect(seen).toEqual({ method: 'POST', auth: 'Bearer k', body: '{"q":1}' });
  });

  it('when requests follow one another, then they reuse one kept-alive connection', async () => {
    const url = server.route((_req, res) => res.end('x'));
    await (await httpFetch(url)).text();
    const before = server.state.connections;

    for (let i = 0; i < 3; i++) expect(await (await httpFetch(url)).text()).toBe('x');

    expect(server.state.connections).toBe(before);
  });

  it('when the body is gzip-encoded, then it is read decoded', async () => {
    const url = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync('{"zipped":true}'));
    });

    expect(await (await httpFetch(url)).json()).toEqual({ zipped: true });
  });

  it('when an event stream is gzip-encoded, then it is read decoded', async () => {
    const url = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(gzipSync('data: zipped\n\n'));
    });

    expect(await (await httpFetch(url)).text()).toBe('data: zipped\n\n');
  });

  it('when the status has no body (204), then the response has none', async () => {
    const url = server.route((_req, res) => res.writeHead(204).end());

    const response = await httpFetch(url, { method: 'DELETE' });

    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('when an event stream arrives, then each chunk can be read before the stream ends', async () => {
    let sendRest: () => void = () => {};
    const url = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      sendRest = () => res.end('data: two\n\n');
    });

    const response = await httpFetch(url);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('data: one\n\n');
    sendRest();
    const second = await reader.read();
    expect(decoder.decode(second.value)).toBe('data: two\n\n');
    expect((await reader.read()).done).toBe(true);
  });

  it('when an event stream is cut short, then reading it fails as fetch’s does: TypeError terminated', async () => {
    const url = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n', () => res.destroy());
    });

    const response = await httpFetch(url);
    const error = await reasonOf(response.text());

    expect(error).toBeInstanceOf(TypeError);
    expect(error?.message).toBe('terminated');
  });

  it('when a JSON body is cut short, then the response comes and reading its body fails with TypeError terminated', async () => {
    const url = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":', () => res.destroy());
    });

    const response = await httpFetch(url);
    const error = await reasonOf(response.json());

    expect(response.status).toBe(200);
    expect(error).toBeInstanceOf(TypeError);
    expect(error?.message).toBe('terminated');
  });

  it('when nothing listens, then it rejects as fetch does: TypeError fetch failed, the cause kept', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const error = await reasonOf(httpFetch(`http://127.0.0.1:${port}/`));

    expect(error).toBeInstanceOf(TypeError);
    expect(error?.message).toBe('fetch failed');
    expect(error?.cause?.code).toBe('ECONNREFUSED');
  });

  it('when the signal aborts while the response is awaited, then it rejects with an AbortError and the connection is closed', async () => {
    let closedByClient: Promise<unknown> = Promise.resolve();
    let arrived: () => void = () => {};
    const request = new Promise<void>((resolve) => (arrived = resolve));
    const url = server.route((req) => {
      closedByClient = once(req.socket, 'close');
      arrived();
    });
    const controller = new AbortController();

    const pending = reasonOf(httpFetch(url, { signal: controller.signal }));
    await request;
    controller.abort();

    expect((await pending)?.name).toBe('AbortError');
    await closedByClient;
  });

  it('when the signal aborts mid-stream, then reading fails with an AbortError', async () => {
    const url = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
    });
    const controller = new AbortController();
    const response = await httpFetch(url, { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();

    controller.abort();

    expect((await reasonOf(reader.read()))?.name).toBe('AbortError');
  });

  it('when the signal has already aborted, then nothing is sent', async () => {
    const before = server.state.connections;
    const url = server.route((_req, res) => res.end());

    const error = await reasonOf(httpFetch(url, { signal: AbortSignal.abort() }));

    expect(error?.name).toBe('AbortError');
    expect(server.state.connections).toBe(before);
  });

  it('when the body is not a string, then the global fetch sends it', async () => {
    let received = '';
    const url = server.route((_req, res, body) => {
      received = body;
      res.end('ok');
    });

    const response = await httpFetch(url, {
      method: 'POST',
      body: new URLSearchParams({ a: '1' }),
    });

    expect(await response.text()).toBe('ok');
    expect(received).toBe('a=1');
  });
});
