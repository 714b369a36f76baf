import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { serveClusterMetrics } from './metrics/cluster-metrics.js';
import { STORE_MARGIN_MS } from './server.js';
import { ensurePortFree } from './server/port-probe.js';

/**
 * WORKERS > 1: this process only forks that many askbase processes and keeps them running.
 * They share the port (node:cluster: the primary accepts connections and hands them out in
 * turn), each with its own database pool and spool slot. A worker that dies after it started
 * is replaced; one that cannot start stops the whole, since its siblings could not either.
 * SIGTERM or SIGINT is passed to every worker, which drain as one process would, and the
 * primary exits when the last has: 0 if all stopped cleanly.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  await ensurePortFree(config.host, config.port);
  serveClusterMetrics();
  let stopping = false;
  let failed = false;
  const started = new WeakSet<Worker>();

  const stopAll = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    // The workers' own last resort, and a little more.
    setTimeout(
      () => {
        logger.error('workers did not stop in time; exiting');
        process.exit(1);
      },
      config.shutdownGraceMs + STORE_MARGIN_MS + 10_000,
    ).unref();
  };
  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => started.add(worker));
  };

  cluster.on('exit', (worker, code, signal) => {
    if (stopping && code !== 0) failed = true;
    if (!stopping && started.has(worker)) {
      logger.error({ pid: worker.process.pid, code, signal }, 'a worker died; starting another');
      fork();
      return;
    }
    if (!stopping) {
      logger.fatal({ pid: worker.process.pid, code, signal }, 'a worker could not start');
      failed = true;
      stopAll();
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    logger.info({ signal, workers: config.workers }, 'stopping every worker');
    stopAll();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  logger.info({ workers: config.workers }, `askbase: starting ${config.workers} workers`);
  for (let i = 0; i < config.workers; i += 1) fork();
}
