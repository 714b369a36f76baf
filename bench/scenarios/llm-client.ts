/**
 * Scenario (l): what one LLM call costs askbase's process in CPU, through the official SDK with
 * askbase's fetch (src/answerer/http-fetch.ts: undici's `request` and connection pool) against
 * the SDK's default, the global fetch. Measured in this process (the only work it does during
 * the scenario) against the fake LLM at 0 ms, plain and streamed, in alternating rounds.
 */
import OpenAI from 'openai';
import { httpFetch } from '../../src/answerer/http-fetch.js';
import { log } from '../lib/log.js';
import { type Results, type Target, median, ratio } from '../lib/results.js';
import type { Scenario } from '../lib/scenario.js';
import type { LlmClientName, LlmClientResult } from '../lib/scenario-results.js';

const CLIENTS: Record<LlmClientName, typeof fetch | undefined> = {
  'global fetch': undefined,
  "askbase's fetch": httpFetch,
};

const CALLS = 2000;
const CONCURRENCY = 20;
const ROUNDS = 3;
const WARM_UP_CALLS = 200;

export const llmClient: Scenario = {
  id: 'l',
  title: 'The LLM client: CPU per SDK call',
  async run({ fakes }) {
    const baseURL = fakes.get(0)?.baseUrl;
    if (!baseURL) throw new Error('no fake LLM at 0 ms');
    log(`the LLM client: ${ROUNDS} rounds of ${CALLS} SDK calls per client, plain and streamed`);
    const names = Object.keys(CLIENTS) as LlmClientName[];
    const cpuUsPerCall = Object.fromEntries(
      names.map((name) => [name, { plain: [] as number[], streamed: [] as number[] }]),
    ) as LlmClientResult['cpuUsPerCall'];
    for (const streamed of [false, true]) {
      for (let round = 0; round < ROUNDS; round += 1) {
        // A B, then B A: a busy moment of the machine falls on both.
        for (const name of round % 2 === 0 ? names : [...names].reverse()) {
          const figure = await cpuPerCall(baseURL, CLIENTS[name], streamed);
          cpuUsPerCall[name][streamed ? 'streamed' : 'plain'].push(figure);
        }
      }
    }
    return { llmClient: { calls: CALLS, concurrency: CONCURRENCY, cpuUsPerCall } };
  },
  targets,
  render,
};

async function cpuPerCall(
  baseURL: string,
  fetch: typeof globalThis.fetch | undefined,
  streamed: boolean,
): Promise<number> {
  const client = new OpenAI({ apiKey: 'bench', baseURL, maxRetries: 0, ...(fetch && { fetch }) });
  const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
  const call = async () => {
    if (!streamed) {
      await client.chat.completions.create({ model: 'bench', messages });
      return;
    }
    const stream = await client.chat.completions.create({ model: 'bench', messages, stream: true });
    for await (const chunk of stream) void chunk;
  };
  for (let i = 0; i < WARM_UP_CALLS; i += 1) await call();
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        next += 1;
        await call();
      }
    }),
  );
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / CALLS);
}

/** Issue 28's question: askbase's own client only if it is cheaper than the SDK's default. */
function targets({ llmClient: l }: Results): Target[] {
  if (!l) return [];
  const ours = l.cpuUsPerCall["askbase's fetch"];
  const theirs = l.cpuUsPerCall['global fetch'];
  const plain = ratio(median(ours.plain), median(theirs.plain));
  const streamed = ratio(median(ours.streamed), median(theirs.streamed));
  return [
    {
      id: 'l',
      description: "askbase's fetch ≤ the global fetch's CPU per call",
      figure: `${plain}× plain, ${streamed}× streamed`,
      met: plain <= 1 && streamed <= 1,
    },
  ];
}

function render({ llmClient: l }: Results): string[] {
  if (!l) return [];
  const cell = (rounds: number[]) => `${median(rounds)} (${rounds.join(', ')})`;
  return [
    `| client, µs of CPU per call: median (each of ${l.cpuUsPerCall['global fetch'].plain.length} rounds of ${l.calls}, ${l.concurrency} at a time) | plain | streamed |`,
    '| --- | --: | --: |',
    ...Object.entries(l.cpuUsPerCall).map(
      ([name, { plain, streamed }]) => `| ${name} | ${cell(plain)} | ${cell(streamed)} |`,
    ),
  ];
}
