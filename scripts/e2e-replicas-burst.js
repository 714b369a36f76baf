/* global fetch, AbortSignal */
// The burst of scripts/e2e-replicas.sh: `count` asks through the load balancer, `concurrency`
// at a time, one in ten made to fail at the LLM; once a third have come back one replica is
// killed (SIGKILL), once two thirds have, another is stopped (SIGTERM, graceful). Prints one
// JSON object: every ask's status, and the id and expected answer of each 200.
// Usage: node scripts/e2e-replicas-burst.js BASE_URL TAG KILL_CONTAINER STOP_CONTAINER
import { execFile } from 'node:child_process';

const [base, tag, killId, stopId] = process.argv.slice(2);
const count = 300;
const concurrency = 30;
const results = [];
let next = 0;
let done = 0;
const events = [];

const docker = (...args) =>
  new Promise((resolve, reject) =>
    execFile('docker', args, (error) => (error ? reject(error) : resolve())),
  );
let stopping;

async function one(i) {
  const question = `Replica burst ${i} (${tag})${i % 10 === 0 ? ' [llm-fails]' : ''}`;
  let status = 0;
  let body;
  try {
    const response = await fetch(`${base}/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question }),
      signal: AbortSignal.timeout(60_000),
    });
    status = response.status;
    body = await response.json().catch(() => undefined);
  } catch (error) {
    body = { transport: String(error.cause?.code ?? error.cause?.message ?? error) };
  }
  results.push({
    i,
    status,
    ...(status === 200 && { id: body?.id, question, answer: body?.answer }),
    ...(status !== 200 && { code: body?.error?.code, transport: body?.transport }),
  });
  done += 1;
  if (done === Math.floor(count / 3)) {
    events.push(`killed ${killId.slice(0, 12)} after ${done}`);
    await docker('kill', '-s', 'KILL', killId);
  }
  if (done === Math.floor((2 * count) / 3)) {
    events.push(`stopping ${stopId.slice(0, 12)} after ${done}`);
    stopping = docker('stop', '-t', '45', stopId);
  }
}

await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) await one(next++);
  }),
);
await stopping;
console.log(JSON.stringify({ events, results }));
