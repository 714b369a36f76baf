/**
 * The fake OpenAI server from the tests as a process of its own for the benchmarks:
 * `node --import tsx bench/fake-llm.ts --port N --latency-ms M`. Unlike the tests' CLI it
 * forgets the requests it records, so a long run does not grow its memory.
 */
import { startFakeOpenAI } from '../test/fake-openai/fake-openai.js';

const arg = (name: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
};

const latencyMs = Number(arg('latency-ms') ?? 0);
const fake = await startFakeOpenAI({ port: Number(arg('port') ?? 0), host: '127.0.0.1' });
fake.setBehavior({ latencyMs });
setInterval(() => {
  fake.requests.length = 0;
}, 1_000);
console.log(`fake OpenAI on ${fake.baseUrl}, latency ${latencyMs} ms`);

const stop = () => void fake.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
