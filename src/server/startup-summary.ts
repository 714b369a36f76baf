import { type Config, isLlmConfigured } from '../config.js';
import type { DatabaseOptions } from '../db/database.js';
import type { Logger } from '../logger.js';

/** The one line a person reads at start: where askbase listens and what it talks to. */
export function logStartupSummary(
  logger: Logger,
  config: Config,
  options: DatabaseOptions,
  port: number,
): void {
  const summary = startupSummary(config, options, port);
  logger.info(
    summary,
    `askbase listening on ${summary.url}; database: ${summary.database}; LLM: ${summary.llm}; API docs: ${summary.docs}`,
  );
}

function startupSummary(config: Config, options: DatabaseOptions, port: number) {
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const database =
    'url' in options
      ? `PostgreSQL at ${withoutUser(options.url)}`
      : // Whether an answer survives a power loss: said where a user looks first.
        `embedded PGlite in ${options.dataDir} (${
          options.fsync === false
            ? 'EMBEDDED_FSYNC=false: not synced to disk, a power loss may lose recent answers'
            : 'each commit synced to disk'
        })`;
  const llm = isLlmConfigured(config.openai)
    ? `${config.openai.baseUrl ? withoutCredentials(config.openai.baseUrl) : 'the OpenAI API'}, model ${config.openai.model}`
    : 'none configured (/ask answers 503)';
  return { url, database, llm, docs: `${url}/docs` };
}

/** Host, port and database only: never the user or password. */
function withoutUser(raw: string): string {
  const { hostname, port, pathname } = new URL(raw);
  return `${hostname}:${port || 5432}${pathname}`;
}

function withoutCredentials(raw: string): string {
  const url = new URL(raw);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}
