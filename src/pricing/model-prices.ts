import type { Price, Usage } from '../domain/question-answer.js';

/**
 * OpenAI's list prices in USD per 1,000,000 tokens, as published on openai.com/api/pricing in
 * August 2025 (standard tier). Prices change: MODEL_PRICES overrides or adds any model, and
 * the price used is stored with each answer, so a later change never rewrites history.
 */
export const BUILT_IN_PRICES_AS_OF = '2025-08';

export const BUILT_IN_PRICES: Readonly<Record<string, Price>> = {
  'gpt-5': { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125 },
  'gpt-5-mini': { inputPerMTok: 0.25, outputPerMTok: 2, cachedInputPerMTok: 0.025 },
  'gpt-5-nano': { inputPerMTok: 0.05, outputPerMTok: 0.4, cachedInputPerMTok: 0.005 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, outputPerMTok: 0.4, cachedInputPerMTok: 0.025 },
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 },
  o3: { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5 },
  'o4-mini': { inputPerMTok: 1.1, outputPerMTok: 4.4, cachedInputPerMTok: 0.275 },
};

/** What MODEL_PRICES holds per model: USD per 1,000,000 tokens. */
export interface PriceOverride {
  input: number;
  output: number;
  cached_input?: number;
}

/** Prices by model name: the built-in table under MODEL_PRICES' entries. */
export class ModelPrices {
  private readonly prices: Map<string, Price>;

  constructor(overrides: Readonly<Record<string, PriceOverride>> = {}) {
    this.prices = new Map(Object.entries(BUILT_IN_PRICES));
    for (const [model, price] of Object.entries(overrides)) {
      this.prices.set(model, {
        inputPerMTok: price.input,
        outputPerMTok: price.output,
        cachedInputPerMTok: price.cached_input ?? null,
      });
    }
  }

  /**
   * The price of a model as the API names it. Snapshot names (`gpt-4o-2024-08-06`) fall back
   * to their family (`gpt-4o`) unless priced themselves.
   */
  priceOf(model: string): Price | undefined {
    return this.prices.get(model) ?? this.prices.get(model.replace(/-\d{4}-\d{2}-\d{2}$/, ''));
  }

  /** What an answer cost, and the price it was computed with; nulls when unknown. */
  costOf(model: string, usage: Usage | null): { costUsd: number | null; price: Price | null } {
    const price = this.priceOf(model);
    if (!price || !usage) return { costUsd: null, price: price ?? null };
    return { costUsd: costWith(price, usage), price };
  }
}

/** Cached prompt tokens at the cached price, where the model has one; the rest at list price. */
export function costWith(price: Price, usage: Usage): number {
  const cached =
    price.cachedInputPerMTok === null
      ? 0
      : Math.min(usage.cachedPromptTokens ?? 0, usage.promptTokens);
  const dollars =
    (usage.promptTokens - cached) * price.inputPerMTok +
    cached * (price.cachedInputPerMTok ?? 0) +
    usage.completionTokens * price.outputPerMTok;
  // Exact, not rounded: a short answer of a nano-priced model costs a fraction of a
  // micro-dollar, and rounding each row would bias every sum.
  return dollars / 1_000_000;
}
