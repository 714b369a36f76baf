import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ShuttingDownError } from '../errors.js';

/**
 * A stop that does not wait on idle clients. From the moment close() begins, every response
 * closes its connection, so no keep-alive client holds the server open, and requests that
 * still arrive are refused (shutting_down). Connections with no request in flight (opened and
 * not used yet, as browsers open them ahead, or between keep-alive requests) are closed at
 * once: Node's close would wait for them until their headers time out, a minute.
 */
export function trackConnections(app: FastifyInstance): void {
  let closing = false;
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
  // Run on every request, true only during a stop: callback hooks, with no promise each.
  app.addHook('onRequest', (_request, _reply, done) => {
    done(closing ? new ShuttingDownError() : undefined);
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}
