import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Child, freePort, spawnChild, waitForHttp } from './processes.js';

/** Portkey's open-source gateway, running, and how to send it a request for the fake LLM. */
export interface Portkey {
  child: Child;
  /** http://127.0.0.1:PORT; chat completions at /v1/chat/completions. */
  baseUrl: string;
  /** What routes a request through it to the fake: provider, custom host, a (fake) key. */
  headers: Record<string, string>;
  version: string;
  /** How it was started, for the report. */
  command: string;
}

const PACKAGE = '@portkey-ai/gateway';

/**
 * Starts Portkey's gateway (the npm package `@portkey-ai/gateway`, its Node server
 * `build/start-server.js`) as a process of its own on a free port, bound to 127.0.0.1 by
 * bench/portkey-loopback.js, with `--headless` (no web console). Requests reach the fake LLM
 * through the headers `x-portkey-provider: openai` and `x-portkey-custom-host: <fake>/v1`
 * (127.0.0.1 is among Portkey's default trusted custom hosts). Returns why not, instead, when
 * it cannot run here.
 */
export async function startPortkey(options: {
  root: string;
  workDir: string;
  /** The fake LLM's OpenAI base URL: http://127.0.0.1:PORT/v1. */
  upstreamBaseUrl: string;
  env: NodeJS.ProcessEnv;
}): Promise<Portkey | { skipped: string }> {
  const dir = join(options.root, 'node_modules', PACKAGE);
  let version: string;
  try {
    version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return { skipped: `${PACKAGE} is not installed (npm install)` };
  }
  const port = await freePort();
  const preload = join(options.root, 'bench/portkey-loopback.js');
  const args = [
    '--import',
    pathToFileURL(preload).href,
    join(dir, 'build/start-server.js'),
    `--port=${port}`,
    '--headless',
  ];
  const child = spawnChild('portkey', process.execPath, args, {
    env: options.env,
    cwd: options.workDir,
    logFile: join(options.workDir, 'portkey.log'),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    // "AI Gateway says hey!" once it listens.
    await waitForHttp(`${baseUrl}/`, child, { timeoutMs: 60_000 });
  } catch (error) {
    await child.stop();
    return { skipped: `${PACKAGE}@${version} did not start: ${String(error)}` };
  }
  return {
    child,
    baseUrl,
    version,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': options.upstreamBaseUrl,
      authorization: 'Bearer bench-placeholder',
    },
    command: `node --import bench/portkey-loopback.js node_modules/${PACKAGE}/build/start-server.js --port=N --headless`,
  };
}
