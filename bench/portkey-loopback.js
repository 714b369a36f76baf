/* global process */
/**
 * Preloaded into Portkey's gateway for scenario (k): `node --import ./bench/portkey-loopback.js
 * node_modules/@portkey-ai/gateway/build/start-server.js --port=N --headless`. The gateway's
 * Node server takes no host option (it listens on every interface); this makes a listen on a
 * port with no host listen on 127.0.0.1 only, like every other server of the benchmark.
 */
import net from 'node:net';

const host = process.env.BENCH_LISTEN_HOST ?? '127.0.0.1';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args[1] === undefined || typeof args[1] === 'function')) {
    const callback = typeof args[1] === 'function' ? args[1] : args[2];
    return listen.call(this, args[0], host, ...(callback ? [callback] : []));
  }
  return listen.apply(this, args);
};
