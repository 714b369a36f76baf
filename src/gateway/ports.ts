/**
 * What the OpenAI-compatible gateway needs from the world, beside the stores of src/qa/ports:
 * an upstream that speaks Chat Completions (src/answerer implements it over the openai SDK).
 * Its methods throw LlmError subclasses only.
 */
import type { Json } from './completion.js';

export type { Json };

/** One entry of GET /v1/models. */
export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  [field: string]: unknown;
}

export interface ChatUpstream {
  /** The completion, as the upstream sent it. */
  complete(body: Json, signal: AbortSignal): Promise<Json>;
  /** Hands each chunk to `onChunk` as it arrives; resolves when the stream has ended. */
  stream(body: Json, onChunk: (chunk: Json) => void, signal: AbortSignal): Promise<void>;
  models(): Promise<ModelEntry[]>;
}

/** An upstream that serves OpenAI's Responses API itself (/v1/responses). */
export interface ResponsesUpstream {
  /** The Response, as the upstream sent it. */
  create(body: Json, signal: AbortSignal): Promise<Json>;
  /** Hands each typed event to `onEvent` as it arrives; resolves when the stream has ended. */
  stream(body: Json, onEvent: (event: Json) => void, signal: AbortSignal): Promise<void>;
}
