// The process entry: read the configuration, start the server (src/server.ts builds it), stop
// cleanly on a signal.
import cluster from 'node:cluster';
import { runPrimary } from './cluster.js';
import { ConfigError, loadConfig } from './config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { createLogger } from './logger.js';
import { STORE_MARGIN_MS, startServer } from './server.js';
import { PortInUseError } from './server/port-probe.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, logger);

  const server = await startServer(config, logger);
  server.ready.catch((error: unknown) => {
    logger.fatal({ err: error }, 'database setup failed');
    process.exit(1);
  });

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections, waiting for asks in flight');
    // A last resort if storing outcomes hangs: the grace period, the time to store, a little more.
    setTimeout(
      () => {
        logger.error('shutdown did not finish in time; exiting');
        process.exit(1);
      },
      config.shutdownGraceMs + STORE_MARGIN_MS + 5_000,
    ).unref();
    await server.app.close();
    logger.info('stopped');
    // A worker's channel to the primary would keep it running.
    cluster.worker?.disconnect();
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`askbase: invalid configuration: ${error.message}`);
  } else if (error instanceof DataDirLockedError || error instanceof PortInUseError) {
    console.error(`askbase: ${error.message}`);
  } else {
    console.error('askbase: failed to start', error);
  }
  process.exit(1);
});
