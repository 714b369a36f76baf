import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * /metrics with WORKERS: a scrape reaches one worker, which asks the primary; the primary
 * collects every worker's registry (prom-client's AggregatorRegistry, over the cluster's IPC)
 * and sums them, so counters and histograms count the whole service, not one process.
 */
const SCRAPE = 'askbase:metrics-scrape';
const SCRAPED = 'askbase:metrics-scraped';
/** Longer than the aggregator's own 5 s for collecting from the workers. */
const SCRAPE_TIMEOUT_MS = 7_000;

interface ScrapeRequest {
  type: typeof SCRAPE;
  id: string;
}
interface ScrapeResponse {
  type: typeof SCRAPED;
  id: string;
  text?: string;
  error?: string;
}

/** In the primary: answers workers' scrapes with the sum of every worker's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Partial<ScrapeRequest>) => {
    if (message.type !== SCRAPE || typeof message.id !== 'string') return;
    const id = message.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: SCRAPED, id, text } satisfies ScrapeResponse),
      (error: unknown) =>
        worker.send({ type: SCRAPED, id, error: String(error) } satisfies ScrapeResponse),
    );
  });
}

/** In a worker: offers `registry` to the primary's aggregation. */
export function joinClusterMetrics(registry: Registry): void {
  // Constructing one installs prom-client's listener for the primary's collection requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries(registry);
}

/** In a worker: the whole cluster's metrics, from the primary. */
export function scrapeCluster(): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer a metrics scrape in time'));
    }, SCRAPE_TIMEOUT_MS);
    const onMessage = (message: Partial<ScrapeResponse>) => {
      if (message.type !== SCRAPED || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.text === undefined) reject(new Error(message.error ?? 'no metrics'));
      else resolve(message.text);
    };
    process.on('message', onMessage);
    process.send?.({ type: SCRAPE, id } satisfies ScrapeRequest);
  });
}
