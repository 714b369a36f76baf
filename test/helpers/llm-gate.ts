import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A closed gate in front of the fake OpenAI server, on 127.0.0.1: it holds every request it
 * gets until `open()`, then forwards them (and any later ones) unchanged. With it a test can
 * know for certain that N asks are all waiting on the LLM at once, however slow the machine.
 */
export interface LlmGate {
  /** Base URL for the SDK (`OPENAI_BASE_URL`). */
  baseUrl: string;
  /** Requests received and held, not yet forwarded. */
  held(): number;
  open(): void;
  close(): Promise<void>;
}

export async function startLlmGate(targetUrl: string): Promise<LlmGate> {
  const target = new URL(targetUrl);
  const queue: { req: IncomingMessage; res: ServerResponse; body: Buffer }[] = [];
  let isOpen = false;

  const forward = ({ req, res, body }: (typeof queue)[number]) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const held = { req, res, body: Buffer.concat(chunks) };
      if (isOpen) forward(held);
      else queue.push(held);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    held: () => queue.length,
    open() {
      isOpen = true;
      for (const held of queue.splice(0)) forward(held);
    },
    async close() {
      for (const { res } of queue.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
