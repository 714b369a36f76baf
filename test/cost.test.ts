import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { BUILT_IN_PRICES, ModelPrices, costWith } from '../src/pricing/model-prices.js';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.js';
import { ask, startAskbase } from './helpers/askbase.js';
import { type TestDatabase, createTestDatabase } from './helpers/database.js';
import { type QaJson, expectOk } from './helpers/http.js';
import { BOTH_DATABASES } from './helpers/each-database.js';

// Exact, as askbase stores it: no rounding to whole micro-dollars.
const costOf = (usage: QaJson['usage'], input: number, output: number) =>
  (usage!.prompt_tokens * input + usage!.completion_tokens * output) / 1_000_000;

describe.each(BOTH_DATABASES)('cost_usd on $driver', { timeout: 120_000 }, ({ embedded }) => {
  let fake: FakeOpenAI;
  let db: TestDatabase | undefined;
  // On the embedded database, one data directory for the suite: each test's askbase opens it
  // as it was left, instead of unpacking a new one.
  let dataDir: string | undefined;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    db = embedded ? undefined : await createTestDatabase();
    dataDir = embedded ? await mkdtemp(join(tmpdir(), 'askbase-test-cost-')) : undefined;
  });
  afterAll(async () => {
    await db?.drop();
    await fake?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when the model has a built-in price, then each answer carries its cost', async () => {
    const askbase = await startAskbase({
      DATABASE_URL: db?.url,
      DATA_DIR: dataDir,
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_MODEL: 'gpt-5-mini',
    });
    try {
      const qa = await expectOk<QaJson>(await ask(askbase.url, { question: 'What does it cost?' }));
      const read = await expectOk<QaJson>(await fetch(`${askbase.url}/qa/${qa.id}`));

      const { inputPerMTok, outputPerMTok } = BUILT_IN_PRICES['gpt-5-mini']!;
      expect(qa.cost_usd).toBe(costOf(qa.usage, inputPerMTok, outputPerMTok));
      expect(qa.cost_usd).toBeGreaterThan(0);
      expect(read.cost_usd).toBe(qa.cost_usd);
    } finally {
      await askbase.stop();
    }
  });

  it('when the model has no known price, then cost_usd is null', async () => {
    const askbase = await startAskbase({
      DATABASE_URL: db?.url,
      DATA_DIR: dataDir,
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_MODEL: 'my-local-llama',
    });
    try {
      const qa = await expectOk<QaJson>(await ask(askbase.url, { question: 'Free?' }));
      expect(qa.usage).not.toBeNull();
      expect(qa.cost_usd).toBeNull();
    } finally {
      await askbase.stop();
    }
  });
});

describe('cost_usd when prices change', { timeout: 120_000 }, () => {
  it('when MODEL_PRICES changes, then new answers use the new price and stored ones keep theirs', async () => {
    const fake = await startFakeOpenAI();
    const db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url,
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_MODEL: 'priced-model',
    };
    try {
      const cheap = await startAskbase({
        ...env,
        MODEL_PRICES: '{"priced-model": {"input": 1, "output": 3}}',
      });
      const before = await expectOk<QaJson>(await ask(cheap.url, { question: 'Cheap?' }));
      await cheap.stop();
      const dear = await startAskbase({
        ...env,
        MODEL_PRICES: '{"priced-model": {"input": 100, "output": 300}}',
      });
      try {
        const after = await expectOk<QaJson>(await ask(dear.url, { question: 'Dear?' }));
        const reread = await expectOk<QaJson>(await fetch(`${dear.url}/qa/${before.id}`));

        expect(before.cost_usd).toBe(costOf(before.usage, 1, 3));
        expect(after.cost_usd).toBe(costOf(after.usage, 100, 300));
        expect(reread.cost_usd).toBe(before.cost_usd);
        const [row] = await db.query(
          'select price_input_per_mtok, price_output_per_mtok from question_answers where id = $1',
          [before.id],
        );
        expect(row).toEqual({ price_input_per_mtok: 1, price_output_per_mtok: 3 });
      } finally {
        await dear.stop();
      }
    } finally {
      await db.drop();
      await fake.close();
    }
  });
});

describe('model prices', () => {
  it('when a model is named by its dated snapshot, then its family’s price applies unless it has its own', () => {
    const prices = new ModelPrices({ 'gpt-4o-2024-05-13': { input: 5, output: 15 } });

    expect(prices.priceOf('gpt-4o-2024-08-06')).toEqual(BUILT_IN_PRICES['gpt-4o']);
    expect(prices.priceOf('gpt-4o-2024-05-13')).toEqual({
      inputPerMTok: 5,
      outputPerMTok: 15,
      cachedInputPerMTok: null,
    });
    expect(prices.priceOf('llama3.2')).toBeUndefined();
  });

  it('when some prompt tokens came from the cache, then they cost the cached price', () => {
    const price = { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 };
    const usage = { promptTokens: 1_000, completionTokens: 100, totalTokens: 1_100 };

    expect(costWith(price, usage)).toBe(0.0028);
    expect(costWith(price, { ...usage, cachedPromptTokens: 800 })).toBe(0.0016);
    expect(
      costWith({ ...price, cachedInputPerMTok: null }, { ...usage, cachedPromptTokens: 800 }),
    ).toBe(0.0028);
  });

  it('when MODEL_PRICES is not valid, then a ConfigError names it', () => {
    for (const raw of [
      'not json',
      '[]',
      '{"m": {"input": -1, "output": 1}}',
      '{"m": {"input": 1}}',
    ]) {
      expect(() => loadConfig({ MODEL_PRICES: raw }), raw).toThrow(ConfigError);
      expect(() => loadConfig({ MODEL_PRICES: raw }), raw).toThrow(/MODEL_PRICES/);
    }
  });
});
