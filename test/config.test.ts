import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, isLlmConfigured, loadConfig } from '../src/config.js';

/** The ConfigError that loadConfig(env) throws; fails the test when it throws none. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('when the environment is empty, then every setting has its documented default', () => {
    const config = loadConfig({});

    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: './data',
      maxQuestionLength: 4000,
      bodyLimitBytes: 65_536,
      logLevel: 'info',
      openai: {
        apiKey: undefined,
        baseUrl: undefined,
        timeoutMs: 60_000,
        maxRetries: 2,
        systemPrompt: undefined,
      },
    });
    expect(config.openai.model).toEqual(expect.any(String));
    expect(config.openai.model.length).toBeGreaterThan(0);
    expect(config.dbPoolMax).toBeGreaterThan(0);
    expect(isLlmConfigured(config.openai)).toBe(false);
  });

  it('when an env object is passed, then the process environment is not read', () => {
    vi.stubEnv('PORT', '4321');
    vi.stubEnv('OPENAI_API_KEY', 'from-the-process');

    const config = loadConfig({});

    expect(config.port).toBe(3000);
    expect(config.openai.apiKey).toBeUndefined();
  });

  it('when every variable is set, then each is read', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://askbase:pw@db:5432/askbase',
      DATA_DIR: '/var/lib/askbase',
      DB_POOL_MAX: '7',
      OPENAI_API_KEY: 'test-key-not-secret',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      OPENAI_MODEL: 'llama3',
      OPENAI_TIMEOUT_MS: '1500',
      OPENAI_MAX_RETRIES: '0',
      SYSTEM_PROMPT: 'Be brief.',
      MAX_QUESTION_LENGTH: '100',
      BODY_LIMIT_BYTES: '2048',
      LOG_LEVEL: 'debug',
    });

    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgres://askbase:pw@db:5432/askbase',
      dataDir: '/var/lib/askbase',
      dbPoolMax: 7,
      maxQuestionLength: 100,
      bodyLimitBytes: 2048,
      logLevel: 'debug',
      openai: {
        apiKey: 'test-key-not-secret',
        baseUrl: 'http://127.0.0.1:11434/v1',
        model: 'llama3',
        timeoutMs: 1500,
        maxRetries: 0,
        systemPrompt: 'Be brief.',
      },
    });
    expect(isLlmConfigured(config.openai)).toBe(true);
  });

  it('when a variable is empty or blank, then its default applies', () => {
    const config = loadConfig({ PORT: '', LOG_LEVEL: '   ', OPENAI_API_KEY: '' });

    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe('info');
    expect(config.openai.apiKey).toBeUndefined();
  });

  it('when only OPENAI_BASE_URL or only OPENAI_API_KEY is set, then an LLM counts as configured', () => {
    expect(isLlmConfigured(loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }).openai)).toBe(
      true,
    );
    expect(isLlmConfigured(loadConfig({ OPENAI_API_KEY: 'test-key-not-secret' }).openai)).toBe(
      true,
    );
  });

  it('when RETENTION_DAYS is unset, then questions are kept forever; when set, it is read as days', () => {
    expect(loadConfig({}).retentionDays).toBeUndefined();
    expect(loadConfig({ RETENTION_DAYS: '90' }).retentionDays).toBe(90);
  });

  it('when WORKERS is unset, a number or auto, then that many processes run; auto on the embedded database means one', () => {
    const url = 'postgres://u:p@127.0.0.1:5432/askbase';

    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: '3', DATABASE_URL: url }).workers).toBe(3);
    expect(loadConfig({ WORKERS: 'auto', DATABASE_URL: url }).workers).toBe(availableParallelism());
    expect(loadConfig({ WORKERS: 'auto' }).workers).toBe(1);
    expect(configError({ WORKERS: '2' }).message).toContain('DATABASE_URL');
    expect(configError({ WORKERS: '0', DATABASE_URL: url }).message).toContain('WORKERS');
    expect(configError({ WORKERS: 'many', DATABASE_URL: url }).message).toContain('WORKERS');
  });

  it('when RATE_LIMIT_STORE is unset, then counts are shared in PostgreSQL and kept in memory on the embedded database', () => {
    const url = 'postgres://u:p@127.0.0.1:5432/askbase';

    expect(loadConfig({ DATABASE_URL: url }).security.rateLimitStore).toBe('database');
    expect(loadConfig({}).security.rateLimitStore).toBe('memory');
    expect(
      loadConfig({ DATABASE_URL: url, RATE_LIMIT_STORE: 'memory' }).security.rateLimitStore,
    ).toBe('memory');
    expect(configError({ RATE_LIMIT_STORE: 'redis' }).message).toContain('RATE_LIMIT_STORE');
  });

  it('when DATABASE_URL uses postgresql://, then it is accepted', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).databaseUrl).toBe(
      'postgresql://u@h/db',
    );
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['PORT', '1e3'],
    ['PORT', '0x50'],
    ['OPENAI_TIMEOUT_MS', '0'],
    ['OPENAI_TIMEOUT_MS', 'abc'],
    ['OPENAI_TIMEOUT_MS', '-5'],
    ['OPENAI_TIMEOUT_MS', '1.5'],
    ['OPENAI_TIMEOUT_MS', '30s'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_LEVEL', 'information'],
    ['LOG_LEVEL', '3'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://user@db/app'],
    ['DATABASE_URL', 'http://db/app'],
    ['DATABASE_URL', 'localhost:5432/app'],
    ['RETENTION_DAYS', '0'],
    ['RETENTION_DAYS', '30d'],
    ['UI_ENABLED', 'maybe'],
  ])('when %s is %j, then a ConfigError names the variable', (name, value) => {
    const error = configError({ [name]: value });

    expect(error.message).toContain(name);
  });

  it.each([
    ['a wrong scheme', 'mysql://admin:hunter2-very-secret@db:3306/app'],
    ['no scheme', 'admin:hunter2-very-secret@db:5432/app'],
    ['a bad port', 'postgres://admin:hunter2-very-secret@db:port/app'],
    ['a space in the host', 'postgres://admin:hunter2-very-secret@d b/app'],
    ['an http scheme', 'http://admin:hunter2-very-secret@db/app'],
  ])(
    'when DATABASE_URL with a password has %s, then the error names DATABASE_URL but never shows the password',
    (_, url) => {
      const error = configError({ DATABASE_URL: url });

      expect(error.message).toContain('DATABASE_URL');
      expect(error.message).not.toContain('hunter2');
      expect(String(error.stack)).not.toContain('hunter2');
      expect(JSON.stringify(error)).not.toContain('hunter2');
    },
  );
});

describe('the documentation of the configuration', () => {
  const source = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
  const variables = [...source.matchAll(/read\.\w+\(\s*'([A-Z][A-Z0-9_]*)'/g)].map(
    ([, name]) => name ?? '',
  );

  it('when askbase reads a variable, then docs/configuration.md, the README and .env.example name it', () => {
    const table = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

    expect(variables.length).toBeGreaterThan(30);
    expect(variables.filter((name) => !table.includes(`| \`${name}\``))).toEqual([]);
    expect(variables.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
    expect(variables.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example))).toEqual([]);
  });
});
