import { readFile } from 'node:fs/promises';
import pg from 'pg';

export interface Samples {
  /** Highest VmRSS seen while sampling, in MiB. */
  peakRssMb: number;
  /** VmHWM when sampling stopped: the process's peak resident set since it started, in MiB. */
  hwmMb: number;
  /** Most connections the server had open to its database at one sample (undefined: no PG). */
  maxDbConnections: number | undefined;
  /** Most of those that were not idle (running a statement or in a transaction). */
  maxDbBusy: number | undefined;
  samples: number;
}

export interface Sampler {
  stop(): Promise<Samples>;
}

/**
 * Samples a server process's resident memory from /proc and, when `db` is given, its database
 * connections from pg_stat_activity over a connection of the sampler's own.
 */
export async function startSampler(options: {
  pid: number;
  db?: { url: string; database: string; applicationName: string };
  intervalMs?: number;
}): Promise<Sampler> {
  const intervalMs = options.intervalMs ?? 100;
  let client: pg.Client | undefined;
  if (options.db) {
    client = new pg.Client({ connectionString: options.db.url, application_name: 'bench-sampler' });
    // A database going away (a stop on Ctrl-C) ends the sampling, not the process.
    client.on('error', () => {});
    await client.connect();
  }
  let peakRssKb = 0;
  let maxDbConnections: number | undefined = options.db ? 0 : undefined;
  let maxDbBusy: number | undefined = options.db ? 0 : undefined;
  let samples = 0;
  let stopping = false;

  const sampleOnce = async () => {
    const status = await readStatus(options.pid);
    if (status) peakRssKb = Math.max(peakRssKb, status.rssKb);
    if (client && options.db) {
      const { rows } = await client.query<{ total: number; busy: number }>(
        `select count(*)::int as total, count(*) filter (where state <> 'idle')::int as busy
           from pg_stat_activity where datname = $1 and application_name = $2`,
        [options.db.database, options.db.applicationName],
      );
      const row = rows[0];
      if (row) {
        maxDbConnections = Math.max(maxDbConnections ?? 0, row.total);
        maxDbBusy = Math.max(maxDbBusy ?? 0, row.busy);
      }
    }
    samples += 1;
  };

  const loop = (async () => {
    while (!stopping) {
      const started = Date.now();
      try {
        await sampleOnce();
      } catch {
        // a missed sample; the next one may succeed
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))),
      );
    }
  })();

  return {
    async stop() {
      stopping = true;
      await loop;
      const status = await readStatus(options.pid);
      if (status) peakRssKb = Math.max(peakRssKb, status.rssKb);
      await client?.end().catch(() => {});
      return {
        peakRssMb: round1(peakRssKb / 1024),
        hwmMb: round1((status?.hwmKb ?? 0) / 1024),
        maxDbConnections,
        maxDbBusy,
        samples,
      };
    },
  };
}

/** VmRSS and VmHWM of `pid` and its direct children (WORKERS' processes), summed. */
async function readStatus(pid: number): Promise<{ rssKb: number; hwmKb: number } | undefined> {
  const own = await ownStatus(pid);
  if (!own) return undefined;
  for (const child of await childrenOf(pid)) {
    const status = await ownStatus(child);
    own.rssKb += status?.rssKb ?? 0;
    own.hwmKb += status?.hwmKb ?? 0;
  }
  return own;
}

async function ownStatus(pid: number): Promise<{ rssKb: number; hwmKb: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1]);
    return { rssKb: field('VmRSS') || 0, hwmKb: field('VmHWM') || 0 };
  } catch {
    return undefined;
  }
}

// Linux counts CPU time in clock ticks of 1/100 s (CLK_TCK) on every mainstream platform, in
// /proc/stat and /proc/<pid>/stat alike.
const MS_PER_TICK = 1000 / 100;

/** Whole-machine CPU counters from /proc/stat: busy and total time over all CPUs, in ms. */
export async function readMachineCpu(): Promise<{ busy: number; total: number }> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      line.trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: busy * MS_PER_TICK, total: (busy + idle + iowait) * MS_PER_TICK };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** utime + stime of the process and its direct children (a server's WORKERS), in ms. */
export async function readCpuMs(pid: number): Promise<number> {
  let ms = 0;
  for (const processMs of (await readCpuMsByPid(pid)).values()) ms += processMs;
  return ms;
}

/**
 * CPU time, in ms, that `pid` and its direct children spent between two readings of
 * `readCpuMsByPid`: per process, so a child that exits in between (a PostgreSQL backend whose
 * pool closed it) takes none of its earlier time out of the sum. What it spent since the first
 * reading is lost with it.
 */
export function cpuMsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}

/** utime + stime of `pid` and of each of its direct children, in ms, by pid. */
export async function readCpuMsByPid(pid: number): Promise<Map<number, number>> {
  const pids = [pid, ...(await childrenOf(pid))];
  const times = await Promise.all(pids.map(ownCpuMs));
  return new Map(pids.map((p, i) => [p, times[i] ?? 0]));
}

/** The direct children of `pid` (WORKERS' processes); none when it has none or is gone. */
async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function ownCpuMs(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return 0;
  }
}

const round1 = (value: number) => Math.round(value * 10) / 10;
