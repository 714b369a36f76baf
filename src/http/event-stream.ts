import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

const outcomes = new WeakMap<FastifyRequest, number>();

/** The status a streamed response's outcome had (its status line always says 200). */
export function streamOutcomeStatus(request: FastifyRequest): number | undefined {
  return outcomes.get(request);
}

// A comment line now and then keeps proxies from closing a stream while the LLM thinks.
const HEARTBEAT_MS = 15_000;

/**
 * A server-sent event stream written straight to the response. Nothing is written until the
 * first event, so until then the route can still fail with an ordinary JSON error; from the
 * first event on, Fastify lets go of the reply (its error handler and serialisers no longer
 * apply) and every outcome must be sent as an event.
 */
export class EventStream {
  private heartbeat: NodeJS.Timeout | undefined;
  private opened = false;

  constructor(private readonly reply: FastifyReply) {}

  get started(): boolean {
    return this.opened;
  }

  /** Sends one event; a client that has gone away is skipped silently. */
  send(event: string, data: unknown): void {
    if (!this.opened) this.open();
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Sends one unnamed event (`data: …`), as OpenAI's streams are written. */
  data(text: string): void {
    if (!this.opened) this.open();
    this.write(`data: ${text}\n\n`);
  }

  /** Records the status the stream's outcome would have had as a plain response. */
  setOutcomeStatus(status: number): void {
    outcomes.set(this.reply.request, status);
  }

  end(): void {
    clearInterval(this.heartbeat);
    if (this.opened && this.writable()) this.reply.raw.end();
  }

  private open(): void {
    this.opened = true;
    this.reply.hijack();
    // Headers hooks set on the reply (CORS, security headers) go out with the stream too.
    this.reply.raw.writeHead(200, {
      ...(this.reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': this.reply.request.id,
      // nginx would otherwise buffer the stream and deliver it in one piece at the end.
      'x-accel-buffering': 'no',
    });
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private write(text: string): void {
    if (this.writable()) this.reply.raw.write(text);
  }

  private writable(): boolean {
    const raw = this.reply.raw;
    return !raw.destroyed && !raw.writableEnded;
  }
}
