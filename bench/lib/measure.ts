/**
 * Measuring request mixes against running servers with autocannon, in alternating rounds
 * (A B, B A, A B …), so a neighbour's load that comes and goes falls on both sides of a ratio.
 */
import type { BenchConfig } from './config.js';
import { type PartsMs, cpuByPart } from './cpu-by-part.js';
import type { FakeLlms } from './fake-llms.js';
import { type LoadSpec, type Round, runRound, summarize } from './load.js';
import { log } from './log.js';
import type { BenchPostgres } from './postgres.js';
import type { RunRecord } from './results.js';
import {
  cpuMsBetween,
  readCpuMs,
  readCpuMsByPid,
  readMachineCpu,
  type Sampler,
  startSampler,
} from './sampler.js';
import type { Server } from './servers.js';

/** One thing to measure: a request mix against one server. */
export interface Item {
  server: Server;
  scenario: string;
  label: string;
  spec: LoadSpec;
  llmLatencyMs: number | null;
  rows?: number;
}

export type Measure = (items: Item[]) => Promise<RunRecord[]>;

const ASK_BODY = JSON.stringify({ question: 'What is the capital of France?' });

/** POST /ask with one short question, from `connections` clients. */
export function askItem(
  server: Server,
  scenario: string,
  label: string,
  connections: number,
  llmLatencyMs: number,
): Item {
  return {
    server,
    scenario,
    label,
    llmLatencyMs,
    spec: { baseUrl: server.baseUrl, method: 'POST', path: '/ask', body: ASK_BODY, connections },
  };
}

/**
 * Measures the items in alternating rounds (A B, B A, A B …), each round an autocannon run with
 * a warm-up of its own, sampling each server's memory and database connections throughout.
 * Every record is also added to `runs`.
 */
export function measurer(options: {
  config: BenchConfig;
  postgres: BenchPostgres | undefined;
  fakes: FakeLlms;
  runs: RunRecord[];
}): Measure {
  const { config, postgres, fakes, runs } = options;

  /**
   * For asks against a server on PostgreSQL: how many rows its database has had (ids only grow,
   * one per ask), and a wait until none of its asks is pending. Undefined for other items.
   */
  function askRows(item: Item) {
    const { server } = item;
    if (item.spec.path !== '/ask' || server.database === 'pglite' || !postgres) return undefined;
    const pg = postgres;
    const database = server.database.name;
    return {
      async created(): Promise<number> {
        const [row] = await pg.query<{ n: string }>(
          database,
          'select coalesce(max(id), 0)::text as n from question_answers',
        );
        return Number(row?.n ?? 0);
      },
      async drained(): Promise<void> {
        // Each ask ends by its LLM call's end, or by its deadline; 30 s is far past both here.
        const until = Date.now() + 30_000;
        while (Date.now() < until) {
          const [row] = await pg.query<{ n: number }>(
            database,
            "select count(*)::int as n from question_answers where status = 'pending'",
          );
          if (row?.n === 0) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        log(`${item.label} [${server.kind}]: asks still pending 30 s after the round`);
      },
    };
  }

  /** CPU time of the parts around a server, in ms, for whoever measures its rounds. */
  function otherParts(item: Item) {
    const fake = item.llmLatencyMs === null ? undefined : fakes.get(item.llmLatencyMs);
    const postmaster = item.server.database === 'pglite' ? undefined : postgres?.pid();
    return {
      async read() {
        const own = process.cpuUsage();
        return {
          loadGenerator: (own.user + own.system) / 1000,
          fakeLlm: fake ? await readCpuMs(fake.child.pid) : 0,
          // The postmaster's children are the backends; a pool may close some between readings.
          postgres:
            postmaster === undefined ? new Map<number, number>() : await readCpuMsByPid(postmaster),
        };
      },
    };
  }

  return async (items) => {
    const samplers: Sampler[] = [];
    const rounds: Round[][] = items.map(() => []);
    // The server's CPU time during each item's own rounds, warm-ups included.
    const cpuMs = items.map(() => 0);
    // Asks on PostgreSQL: the rows the rounds created, each round drained of its asks in flight.
    const asks = items.map(() => 0);
    // The whole machine's CPU over the same rounds: near 100% means the machine, not the server, is the limit.
    const machine = items.map(() => ({ busy: 0, total: 0 }));
    // And who else spent it: this process (the load generator), the fake LLM, PostgreSQL.
    const parts = items.map((): PartsMs => ({ loadGenerator: 0, fakeLlm: 0, postgres: 0 }));
    const roundS = config.durationS / config.rounds;
    let failure: Error | undefined;
    try {
      for (const item of items) {
        const { server } = item;
        samplers.push(
          await startSampler({
            pid: server.child.pid,
            ...(server.database !== 'pglite' && postgres
              ? {
                  db: {
                    url: postgres.url('postgres'),
                    database: server.database.name,
                    applicationName: server.kind,
                  },
                }
              : {}),
          }),
        );
      }
      for (let round = 0; round < config.rounds; round++) {
        const order = items.map((_, i) => i);
        if (round % 2 === 1) order.reverse();
        for (const i of order) {
          const item = items[i];
          // A warm-up of at least three LLM round trips, so every connection is busy before it counts.
          const warmupS = Math.max(config.warmupS, (3 * (item?.llmLatencyMs ?? 0)) / 1000);
          if (!item) continue;
          const others = otherParts(item);
          const rows = askRows(item);
          const rowsBefore = await rows?.created();
          const othersBefore = await others.read();
          const cpuBefore = await readCpuMs(item.server.child.pid);
          const machineBefore = await readMachineCpu();
          rounds[i]?.push(await runRound(item.spec, warmupS, roundS));
          // The asks still in flight when the load stopped finish on the server's CPU: their cost
          // belongs to this round, and their rows are counted with it.
          await rows?.drained();
          if (rows && rowsBefore !== undefined)
            asks[i] = (asks[i] ?? 0) + (await rows.created()) - rowsBefore;
          const machineAfter = await readMachineCpu();
          cpuMs[i] = (cpuMs[i] ?? 0) + (await readCpuMs(item.server.child.pid)) - cpuBefore;
          const othersAfter = await others.read();
          const m = machine[i];
          if (m) {
            m.busy += machineAfter.busy - machineBefore.busy;
            m.total += machineAfter.total - machineBefore.total;
          }
          const part = parts[i];
          if (part) {
            part.loadGenerator += othersAfter.loadGenerator - othersBefore.loadGenerator;
            part.fakeLlm += othersAfter.fakeLlm - othersBefore.fakeLlm;
            part.postgres += cpuMsBetween(othersBefore.postgres, othersAfter.postgres);
          }
        }
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    const samples = await Promise.all(samplers.map((sampler) => sampler.stop()));
    if (failure !== undefined) throw failure;
    return items.map((item, i) => {
      const load = summarize(item.spec, rounds[i] ?? []);
      // Per ask started (a row) where rows were counted, else per response.
      const requests = (asks[i] ?? 0) > 0 ? (asks[i] ?? 0) : load.allResponses;
      const record: RunRecord = {
        scenario: item.scenario,
        label: item.scenario === 'chart' ? item.label : `(${item.scenario}) ${item.label}`,
        server: item.server.kind,
        database: item.server.database === 'pglite' ? 'pglite' : 'postgres',
        request: `${item.spec.method} ${item.spec.path}`,
        connections: item.spec.connections,
        llmLatencyMs: item.llmLatencyMs,
        ...(item.rows === undefined ? {} : { rows: item.rows }),
        load,
        samples: samples[i] ?? {
          peakRssMb: 0,
          hwmMb: 0,
          maxDbConnections: undefined,
          maxDbBusy: undefined,
          samples: 0,
        },
        machineBusyPct: Math.round(((machine[i]?.busy ?? 0) / (machine[i]?.total || 1)) * 100),
        cpuMsPerRequest: requests > 0 ? Math.round(((cpuMs[i] ?? 0) / requests) * 100) / 100 : 0,
        ...((asks[i] ?? 0) > 0 && { asksStarted: asks[i] }),
        ...(requests > 0 && {
          cpuByPart: cpuByPart(cpuMs[i] ?? 0, parts[i], machine[i], requests),
        }),
      };
      runs.push(record);
      log(
        `${record.label} [${record.server}]: ${load.rps} req/s (Little ${load.rpsLittle}), ` +
          `p50 ${load.p50Ms} ms, p99 ${load.p99Ms} ms, errors ${load.errors}, ` +
          `CPU ${record.cpuMsPerRequest} ms/req, machine ${record.machineBusyPct}% busy, ` +
          `RSS ${record.samples.peakRssMb} MiB, DB conns ${record.samples.maxDbConnections ?? 'n/a'} ` +
          `(busy ${record.samples.maxDbBusy ?? 'n/a'})`,
      );
      return record;
    });
  };
}
