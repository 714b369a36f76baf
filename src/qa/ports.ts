/**
 * What the ask lifecycle needs from the world, as interfaces it owns: a store for questions
 * (src/repository implements it over PostgreSQL or PGlite), an answerer (src/answerer, over the
 * openai SDK) and a recorder for LLM calls (src/metrics). Adapters depend on these; the
 * service depends on nothing concrete.
 */
import type {
  Answer,
  ChatMessage,
  ExchangeKind,
  ExchangeRecord,
  History,
  ListFilter,
  Page,
  QuestionAnswer,
  Stats,
  StatsGroupBy,
  StoredAnswer,
  Usage,
} from '../domain/question-answer.js';

export type CreatePendingResult =
  | { created: true; questionAnswer: QuestionAnswer }
  /** The Idempotency-Key was used before: the row it made. */
  | { created: false; questionAnswer: QuestionAnswer };

/** How a pending row is created. */
export interface CreatePendingOptions {
  idempotencyKey?: string | undefined;
  deadlineMs: number;
  keyName?: string | undefined;
  cacheKey?: string | undefined;
  /** Where the row comes from; `ask` unless said. */
  kind?: ExchangeKind | undefined;
  /**
   * The turn this one follows (null: it joins the conversation with all its messages), and
   * their conversation (its first turn's id); `nameFirst` when that first turn is an ask
   * that no turn has followed yet, which is told its conversation too.
   */
  follows?:
    | {
        parentId: number | null;
        conversationId: number;
        nameFirst?: boolean;
        /**
         * The parent must be there and answered when the turn is stored, checked in the
         * transaction that stores it (else ParentGoneError): a response's previous_response_id.
         */
        parentAnswered?: boolean;
      }
    | undefined;
  /**
   * A chat turn's messages after its parent's (a response's own input items), and the
   * request's other fields.
   */
  request?: { messages: readonly unknown[]; params: Record<string, unknown> } | undefined;
  /** The digest of a chat turn's request (see ConversationState); kept while it is pending. */
  requestDigest?: string | undefined;
  /** The id askbase gave a response (`resp_…`), by which a client names it again. */
  responseId?: string | undefined;
}

/** How a row answered from the cache is created. */
export interface CreateCachedOptions {
  idempotencyKey?: string | undefined;
  keyName?: string | undefined;
  cacheKey: string;
  latencyMs: number;
  /** For a chat turn: as createPending's, and what the exchange stores beside its answer. */
  kind?: ExchangeKind | undefined;
  follows?: CreatePendingOptions['follows'];
  request?: CreatePendingOptions['request'];
  exchange?: ExchangeRecord | undefined;
}

/** Why a question got no answer, as its row records it. */
export interface Failure {
  code: string;
  message: string;
}

/** An attempt's failure, with the part of a streamed answer that arrived before it broke off. */
export interface AttemptFailure extends Failure {
  partialAnswer?: string | undefined;
}

/** A page of a listing: at most `limit` rows after `afterId`, of those the filter matches. */
export type ListPageOptions = { limit: number; afterId?: number } & ListFilter;

/** What stats are taken over. */
export type StatsFilter = Pick<ListFilter, 'since' | 'until' | 'keyName' | 'kind'>;

/** Totals, and totals per group (empty without a group). */
export interface StatsResult {
  totals: Stats;
  groups: ({ group: string | null } & Stats)[];
}

/**
 * Where questions are kept. Every method is one short statement; outcomes are recorded only
 * by the attempt that owns the row. A store that cannot be reached throws
 * DatabaseUnavailableError.
 */
export interface QuestionStore {
  createPending(
    /** Null: the text is not to be stored. */
    question: string | null,
    options: CreatePendingOptions,
  ): Promise<CreatePendingResult>;
  /** The newest question with this cache key answered within `maxAgeSeconds`, with its text. */
  findCached(cacheKey: string, maxAgeSeconds: number): Promise<QuestionAnswer | undefined>;
  /** Stores a new question answered from `source`: no LLM call, no cost. */
  createCached(
    question: string | null,
    source: QuestionAnswer,
    options: CreateCachedOptions,
  ): Promise<CreatePendingResult>;
  markAnswered(
    id: number,
    attempt: number,
    answer: StoredAnswer,
    answeredAt?: Date,
  ): Promise<QuestionAnswer | undefined>;
  markFailed(
    id: number,
    attempt: number,
    error: AttemptFailure,
  ): Promise<QuestionAnswer | undefined>;
  reopenFailed(id: number, deadlineMs: number): Promise<QuestionAnswer | undefined>;
  failStalePending(marginMs: number, failure: Failure): Promise<number>;
  /**
   * Fails every pending row that another process owns: only for a database no other process
   * can use (the embedded one), where such a row's process is certainly gone.
   */
  failPendingOfOthers(failure: Failure): Promise<number>;
  get(id: number): Promise<QuestionAnswer | undefined>;
  delete(id: number): Promise<boolean>;
  listPage(options: ListPageOptions): Promise<Page<QuestionAnswer>>;
  /** Totals, and totals per group when `groupBy` is given, over what the filter matches. */
  stats(filter: StatsFilter, groupBy?: StatsGroupBy): Promise<StatsResult>;
  /** Deletes up to `limit` questions created before `cutoff`; returns how many it deleted. */
  deleteCreatedBefore(cutoff: Date, limit: number): Promise<number>;
}

/** Which pending rows a process may fail as orphaned (see LeaseStore.failOrphaned). */
export interface OrphanSweep {
  /** This process: its rows are never failed. */
  owner: string;
  /** What this process is an instance of (its host and spool); earlier ones are gone. */
  instance: string;
  /** How old another owner's last heartbeat must be for its process to count as gone. */
  ttlMs: number;
  /** False while this process's own heartbeat has not held for ttlMs (see Lease). */
  judgeOthers: boolean;
}

/** Leases of the processes on a shared database (PostgreSQL), timed by its clock. */
export interface LeaseStore {
  /** Creates or renews `owner`'s lease: its heartbeat. */
  renew(owner: string): Promise<void>;
  release(owner: string): Promise<void>;
  /** Whether `owner` has no lease renewed within `ttlMs`: its process is gone. */
  expired(owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Fails the pending rows of processes that are gone: an earlier process of this instance,
   * and, when judging others, any owner whose lease expired. Returns how many.
   */
  failOrphaned(sweep: OrphanSweep, failure: Failure): Promise<number>;
  /** Deletes leases expired a day ago and more (housekeeping): their rows are long failed. */
  forgetExpired(): Promise<void>;
}

/** A stored turn found by the digest of its conversation's state (see ConversationState). */
export interface StoredTurn {
  id: number;
  /** Null while no turn has followed it. */
  conversationId: number | null;
  status: QuestionAnswer['status'];
  /** Set once it is answered. */
  stateDigest: string | null;
  /** Set while it is pending. */
  requestDigest: string | null;
}

/** A chat turn as it was asked and answered, whole. */
export interface StoredExchange {
  row: QuestionAnswer;
  /** The request as the client sent it, every message included; null without stored text. */
  request: Record<string, unknown> | null;
  response: Record<string, unknown> | null;
  /** False when an earlier turn was deleted since: its messages are missing from `request`. */
  historyComplete: boolean;
}

/** A response (POST /v1/responses) as stored, found by the id askbase gave it. */
export interface StoredResponseTurn {
  row: QuestionAnswer;
  /** Its own input items (not its parents'); null without stored text. */
  input: Record<string, unknown>[] | null;
  /** The request's other fields; null without stored text. */
  params: Record<string, unknown> | null;
  /** The Response, once answered; null before or without stored text. */
  response: Record<string, unknown> | null;
}

/** Conversations: finding a turn's parent, and reading turns back whole. */
export interface ConversationStore {
  /** The response askbase gave `responseId`; undefined when there is none. */
  response(responseId: string): Promise<StoredResponseTurn | undefined>;
  /**
   * What response turn `id` and the responses before it said, as the input of a next turn:
   * each one's input items and output items, oldest first.
   */
  responseItems(id: number): Promise<{ items: Record<string, unknown>[]; complete: boolean }>;
  /**
   * Answered turns whose state digest is one of `states`, and turns still pending whose
   * request digest is one of `requests`.
   */
  findTurns(states: string[], requests: string[]): Promise<StoredTurn[]>;
  /** Turn `id` as it is now; undefined when it is gone. */
  turn(id: number): Promise<StoredTurn | undefined>;
  /** Turn `id`'s conversation up to and including its answer, as messages. */
  history(id: number): Promise<History>;
  exchange(id: number): Promise<StoredExchange | undefined>;
  /** A conversation's turns, oldest first; empty when there is none. */
  turns(conversationId: number): Promise<QuestionAnswer[]>;
}

/**
 * Answers one question. Implementations throw LlmError subclasses (src/errors.ts) and nothing
 * else; `signal` ends the call (and its retries) early, and the caller decides what that means.
 */
export interface Answerer {
  /** `thread`: the conversation the question follows up, before it. */
  answer(question: string, signal?: AbortSignal, thread?: ChatMessage[]): Promise<Answer>;
  /**
   * The same answer, with each piece of its text handed to `onDelta` as the LLM produces it;
   * the pieces joined are the returned text. `onDelta` must not throw.
   */
  answerStream(
    question: string,
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    thread?: ChatMessage[],
  ): Promise<Answer>;
}

export type { ChatMessage };

/** One call to the LLM as the lifecycle saw it. */
export interface LlmCall {
  /** `answered`, or the error code of the failure. */
  outcome: string;
  seconds: number;
  usage: Usage | null;
}

/** Where the lifecycle reports its LLM calls (the app's metrics). */
export interface LlmCallRecorder {
  llmCall(call: LlmCall): void;
}
