import type { QuestionStatus } from '../db/schema.js';

export type { QuestionStatus };

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** A stored question and what became of it; plain data, free of ORM types. */
export interface QuestionAnswer {
  id: number;
  question: string;
  answer: string | null;
  status: QuestionStatus;
  createdAt: Date;
  answeredAt: Date | null;
  model: string | null;
  usage: Usage | null;
  latencyMs: number | null;
  error: { code: string; message: string } | null;
}

/** What the LLM gave back for one question. */
export interface Answer {
  text: string;
  model: string;
  usage: Usage | null;
  latencyMs: number;
}

export interface Page<T> {
  items: T[];
  /** The id to continue after, when more rows exist. */
  nextAfterId: number | undefined;
}
