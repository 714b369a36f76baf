/** Who spent the machine's CPU during a server's rounds, per request, and what that implies. */
import { availableParallelism } from 'node:os';
import type { CpuByPart, RunRecord } from './results.js';

/** CPU ms of the parts around a server, summed over its rounds. */
export interface PartsMs {
  loadGenerator: number;
  fakeLlm: number;
  postgres: number;
}

export function cpuByPart(
  serverMs: number,
  part: PartsMs | undefined,
  machine: { busy: number } | undefined,
  responses: number,
): CpuByPart {
  const per = (ms: number) => Math.round((ms / responses) * 100) / 100;
  const machineMs = machine?.busy ?? 0;
  const named =
    serverMs + (part?.loadGenerator ?? 0) + (part?.fakeLlm ?? 0) + (part?.postgres ?? 0);
  return {
    server: per(serverMs),
    loadGenerator: per(part?.loadGenerator ?? 0),
    fakeLlm: per(part?.fakeLlm ?? 0),
    postgres: per(part?.postgres ?? 0),
    other: per(Math.max(0, machineMs - named)),
    machine: per(machineMs),
    cpus: availableParallelism(),
  };
}

/**
 * CPUs that `rps` requests per second would keep busy, at the CPU per request that the named
 * parts (server, load generator, fake LLM, PostgreSQL) spent in this run; neighbours excluded.
 */
export function coresNeeded(run: RunRecord, rps: number) {
  const part = run.cpuByPart;
  if (!part) return undefined;
  const all = part.server + part.loadGenerator + part.fakeLlm + part.postgres;
  return {
    cores: Math.round(((all * rps) / 1000) * 10) / 10,
    all: Math.round(all * 100) / 100,
    server: part.server,
    cpus: part.cpus,
  };
}
