import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { BUILT_IN_PRICES, ModelPrices, costWith } from '../../src/pricing/model-prices.js';
import { ask } from '../helpers/askbase.js';
import { type QaJson, expectOk } from '../helpers/http.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';

// Exact, as askbase stores it: no rounding to whole micro-dollars.
const costOf = (usage: QaJson['usage'], input: number, output: number) =>
  (usage!.prompt_tokens * input + usage!.completion_tokens * output) / 1_000_000;

describe.each(BOTH_DATABASES)('cost_usd on $driver', { timeout: 120_000 }, ({ database }) => {
  // Each test starts an askbase of its own; on the embedded database, each opens the suite's
  // data directory as the last one left it, instead of unpacking a new one.
  const suite = useAskbaseSuite({ database, askbase: false });

  it('when the model has a built-in price, then each answer carries its cost', async () => {
    const askbase = await suite.start({ OPENAI_MODEL: 'gpt-5-mini' });
    const qa = await expectOk<QaJson>(await ask(askbase.url, { question: 'What does it cost?' }));
    const read = await expectOk<QaJson>(await fetch(`${askbase.url}/qa/${qa.id}`));

    const { inputPerMTok, outputPerMTok } = BUILT_IN_PRICES['gpt-5-mini']!;
    expect(qa.cost_usd).toBe(costOf(qa.usage, inputPerMTok, outputPerMTok));
    expect(qa.cost_usd).toBeGreaterThan(0);
    expect(read.cost_usd).toBe(qa.cost_usd);
  });

  it('when the model has no known price, then cost_usd is null', async () => {
    const askbase = await suite.start({ OPENAI_MODEL: 'my-local-llama' });
    const qa = await expectOk<QaJson>(await ask(askbase.url, { question: 'Free?' }));
    expect(qa.usage).not.toBeNull();
    expect(qa.cost_usd).toBeNull();
  });
});

describe('cost_usd when prices change', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({ askbase: false, env: { OPENAI_MODEL: 'priced-model' } });

  it('when MODEL_PRICES changes, then new answers use the new price and stored ones keep theirs', async () => {
    const cheap = await suite.start({
      MODEL_PRICES: '{"priced-model": {"input": 1, "output": 3}}',
    });
    const before = await expectOk<QaJson>(await ask(cheap.url, { question: 'Cheap?' }));
    await cheap.stop();
    const dear = await suite.start({
      MODEL_PRICES: '{"priced-model": {"input": 100, "output": 300}}',
    });
    const after = await expectOk<QaJson>(await ask(dear.url, { question: 'Dear?' }));
    const reread = await expectOk<QaJson>(await fetch(`${dear.url}/qa/${before.id}`));

    expect(before.cost_usd).toBe(costOf(before.usage, 1, 3));
    expect(after.cost_usd).toBe(costOf(after.usage, 100, 300));
    expect(reread.cost_usd).toBe(before.cost_usd);
    const [row] = await suite.db.query(
      'select price_input_per_mtok, price_output_per_mtok from question_answers where id = $1',
      [before.id],
    );
    expect(row).toEqual({ price_input_per_mtok: 1, price_output_per_mtok: 3 });
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
