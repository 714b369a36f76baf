/**
 * askbase's domain: what a stored question is. Plain data and constants, importing nothing,
 * so every other module (the database schema included) can depend on it.
 */

export const QUESTION_STATUSES = ['pending', 'answered', 'failed'] as const;
export type QuestionStatus = (typeof QUESTION_STATUSES)[number];

/** Where a row came from: POST /ask, or OpenAI's POST /v1/chat/completions or /v1/responses. */
export const EXCHANGE_KINDS = ['ask', 'chat', 'response'] as const;
export type ExchangeKind = (typeof EXCHANGE_KINDS)[number];

/** The error code of a question whose process stopped before recording its outcome. */
export const INTERRUPTED = 'interrupted';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Of the prompt tokens, those the provider served from its prompt cache, when it says. */
  cachedPromptTokens?: number | undefined;
  /** Of the completion tokens, those the model spent reasoning, when it says. */
  reasoningTokens?: number | undefined;
}

/** A model's price in USD per 1,000,000 tokens. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  /** For prompt tokens served from the provider's cache; null when the model has none. */
  cachedInputPerMTok: number | null;
}

/** A stored question and what became of it; plain data, free of ORM types. */
export interface QuestionAnswer {
  id: number;
  /** Null, as the answer, when the ask asked for its text not to be stored. */
  question: string | null;
  /** On a failed row, the part of a streamed answer that arrived before it broke off, if any. */
  answer: string | null;
  textStored: boolean;
  status: QuestionStatus;
  createdAt: Date;
  answeredAt: Date | null;
  model: string | null;
  usage: Usage | null;
  latencyMs: number | null;
  /** What the answer cost in USD, by the price stored with it; null when the price is unknown. */
  costUsd: number | null;
  /** The name of the API key that asked it; null when askbase runs without keys. */
  keyName: string | null;
  /** The question whose answer this one is a copy of (the answer cache); null otherwise. */
  cachedFrom: number | null;
  kind: ExchangeKind;
  /** The conversation's id (its first turn's); null for an ask no turn followed. */
  conversationId: number | null;
  /** The turn this one follows; null on a first turn. */
  parentId: number | null;
  /** Why the model stopped (`stop`, `length`, `tool_calls`, …), as it said. */
  finishReason: string | null;
  /** Time to the first piece of a streamed answer; null when not streamed. */
  ttftMs: number | null;
  /** Which attempt owns the row: 1, plus one per retry. Internal; not part of the wire shape. */
  attempt: number;
  error: { code: string; message: string } | null;
}

/** One message of a conversation as the Chat Completions API writes it (role, content, …). */
export interface ChatMessage {
  role: string;
  [field: string]: unknown;
}

/** A stored turn's whole conversation up to and including its answer, rebuilt from its turns. */
export interface History {
  messages: ChatMessage[];
  /** False when an earlier turn was deleted since (DELETE, retention): its messages are missing. */
  complete: boolean;
}

/** What the LLM gave back for one question. */
export interface Answer {
  text: string;
  model: string;
  usage: Usage | null;
  latencyMs: number;
  finishReason?: string | null | undefined;
  ttftMs?: number | null | undefined;
}

/** What a chat exchange stores beside its answer. */
export interface ExchangeRecord {
  /** The upstream's response (a stream's chunks put together); null when text is not kept. */
  response: Record<string, unknown> | null;
  /** See the state_digest column: how the next turn finds this one. */
  stateDigest: string | null;
}

/**
 * An answer as it is stored: without its text when the ask said not to keep it, with what it
 * cost and the price that was computed with (absent in outcomes spooled by older versions).
 */
export type StoredAnswer = Omit<Answer, 'text'> & {
  text: string | null;
  costUsd?: number | null;
  price?: Price | null;
  exchange?: ExchangeRecord | undefined;
};

export interface Page<T> {
  items: T[];
  /** The id to continue after, when more rows exist. */
  nextAfterId: number | undefined;
}

/** Totals over stored questions (GET /stats). */
export interface Stats {
  asks: number;
  answered: number;
  failed: number;
  pending: number;
  failedByCode: Record<string, number>;
  promptTokens: number;
  completionTokens: number;
  /** Null when no question in the set has a known cost. */
  costUsd: number | null;
  /** Over the questions that have a latency (answered ones); nulls when there are none. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

export type StatsGroupBy = 'model' | 'day' | 'key';

/** Narrows a listing; every field is optional and they combine with AND. */
export interface ListFilter {
  /** Words to find in the question or answer, in web search syntax ("phrase", or, -word). */
  search?: string;
  status?: QuestionStatus;
  /** created_at at or after this instant: UTC ISO-8601 to the microsecond. */
  since?: string;
  /** created_at before this instant: UTC ISO-8601 to the microsecond. */
  until?: string;
  /** Only what the API key of this name asked. */
  keyName?: string;
  kind?: ExchangeKind;
  /** Only the turns of this conversation. */
  conversationId?: number;
}
