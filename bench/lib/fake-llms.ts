/** The fake OpenAI servers (bench/fake-llm.ts), one process per LLM latency. */
import { join } from 'node:path';
import { ROOT } from './config.js';
import { type Child, childEnv, freePort, spawnChild, waitForHttp } from './processes.js';

export interface FakeLlm {
  child: Child;
  /** http://127.0.0.1:PORT/v1, for OPENAI_BASE_URL. */
  baseUrl: string;
}

/** The running fakes by their latency in ms. */
export type FakeLlms = Map<number, FakeLlm>;

/** Starts a fake that answers after `latency` ms, listening on 127.0.0.1. */
export async function startFakeLlm(latency: number, workDir: string): Promise<FakeLlm> {
  const port = await freePort();
  const child = spawnChild(
    `fake LLM ${latency} ms`,
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'bench/fake-llm.ts'),
      '--port',
      String(port),
      '--latency-ms',
      String(latency),
    ],
    { env: childEnv({}), cwd: ROOT, logFile: join(workDir, `fake-llm-${latency}.log`) },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url + '/', child, { accept: () => true });
  return { child, baseUrl: `${url}/v1` };
}
