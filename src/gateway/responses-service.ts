import { randomBytes } from 'node:crypto';
import {
  AppError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  LlmNotConfiguredError,
  ModelNotAllowedError,
  NotFoundError,
  ParentGoneError,
  RequestInProgressError,
  StoredFailureError,
} from '../errors.js';
import type { QuestionAnswer } from '../domain/question-answer.js';
import { displayedQuestion } from '../domain/storable-text.js';
import type { AnswerAttempts } from '../qa/answer-attempts.js';
import type { ConversationStore, QuestionStore, StoredResponseTurn } from '../qa/ports.js';
import { settled } from '../qa/settled.js';
import type { Json } from './completion.js';
import { EarlyCalls } from './early-calls.js';
import { inputItemsOf, listedItem, questionTextOf } from './response-items.js';
import { EventRelay, type ResponseProgress, type ResponsesRoute } from './responses-call.js';
import { responseShell } from './responses-stream.js';

export type { ResponseProgress };

export interface ResponsesServiceDeps {
  repository: QuestionStore;
  conversations: ConversationStore;
  /** Undefined when no LLM is configured: requests are refused before anything is stored. */
  route: ResponsesRoute | undefined;
  attempts: AnswerAttempts;
  /** Whether a response keeps its text unless the request says otherwise (STORE_TEXT). */
  storeText: boolean;
  /** When non-empty, the only models a request may name. */
  allowedModels: readonly string[];
  /** Stored with each pending row as its attempt's deadline. */
  askTimeoutMs: number;
}

/** A Responses request as the HTTP layer hands it over. */
export interface ResponseCall {
  /** The request body: `model` and `input` are checked; the rest is the client's. */
  body: Json & { model: string; input: string | Json[] };
  keyName?: string | undefined;
  idempotencyKey?: string | undefined;
  /** X-Askbase-Store: false keeps no text, whatever the body's `store` says. */
  store?: boolean | undefined;
}

export interface ResponseResult {
  row: QuestionAnswer;
  response: Json;
  /** True when the response came from the store (a repeated Idempotency-Key). */
  replayed: boolean;
}

/** One page of GET /v1/responses/{id}/input_items. */
export type InputItemsPage = {
  object: 'list';
  data: Json[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
};

/**
 * OpenAI's Responses API through askbase, with the conversation state kept by askbase: each
 * response is one row in the ask lifecycle (pending, then answered or failed; priced; spooled
 * while the database is away), and `previous_response_id` is resolved from the store, so a
 * follow-up works the moment its previous response completed, on any replica.
 */
export class ResponsesService {
  private readonly early = new EarlyCalls();

  constructor(private readonly deps: ResponsesServiceDeps) {}

  async create(call: ResponseCall, progress?: ResponseProgress): Promise<ResponseResult> {
    const { route, allowedModels, storeText, repository, attempts } = this.deps;
    if (!route) throw new LlmNotConfiguredError();
    const { body } = call;
    if (allowedModels.length > 0 && !allowedModels.includes(body.model)) {
      throw new ModelNotAllowedError(body.model);
    }
    refuseUnsupported(body);
    route.check(body);
    // askbase keeps the text by its own rules (STORE_TEXT, X-Askbase-Store), whatever the
    // body's `store` says: that one only decides whether the response can be named again.
    const keepText = call.store ?? storeText;
    const previous = await this.previous(body.previous_response_id, call.keyName);
    const input = inputItemsOf(body.input);
    const items = [...(previous?.items ?? []), ...input];
    const responseId = `resp_${randomBytes(24).toString('hex')}`;
    const shell = responseShell(responseId, body, Math.floor(Date.now() / 1000));
    const relay = progress && new EventRelay(progress);
    const params: Json = { ...body };
    delete params.input;
    const question = displayedQuestion(questionTextOf(input), 'response');
    const ask = (signal: AbortSignal) => route.call(body, items, shell, signal, relay);
    const idempotencyKey =
      call.idempotencyKey === undefined
        ? undefined
        : `${call.keyName ?? ''}:response:${call.idempotencyKey}`;
    // Without an Idempotency-Key to replay, the LLM is asked while the row is stored
    // (EarlyCalls); the previous response, if any, was just found answered.
    const early = idempotencyKey === undefined ? this.early.start(ask) : undefined;
    let created: Awaited<ReturnType<QuestionStore['createPending']>>;
    try {
      created = await repository.createPending(keepText ? question : null, {
        idempotencyKey,
        keyName: call.keyName,
        kind: 'response',
        responseId,
        follows: previous && {
          parentId: previous.row.id,
          conversationId: previous.row.conversationId ?? previous.row.id,
          parentAnswered: true,
        },
        request: { messages: input, params },
        deadlineMs: this.deps.askTimeoutMs,
      });
    } catch (error) {
      early?.cancel();
      this.early.failed(error);
      if (error instanceof ParentGoneError) throw notFound(String(body.previous_response_id));
      throw error;
    }
    this.early.stored();
    if (!created.created) return this.replay(created.questionAnswer, question);
    const pending = created.questionAnswer;
    progress?.created(pending);
    relay?.open();
    const attempt = attempts.start(pending, early ? (signal) => early.join(signal) : ask, {
      exchange: (answer) => ({ response: answer.completion, stateDigest: null }),
      partial: () => relay?.text ?? '',
    });
    try {
      // A response that can be named again is answered once it is recorded: the client may
      // continue it at once, on any replica.
      const nameable = keepText && body.store !== false;
      const answer = nameable ? (await attempt.recorded).answer : await attempt.answered;
      relay?.finish();
      return { row: { ...pending, question }, response: answer.completion, replayed: false };
    } catch (error) {
      // Once events went out, the failure is the stream's last event, as OpenAI sends it.
      relay?.fail(
        shell,
        error instanceof AppError
          ? { code: error.code, message: error.message }
          : { code: 'internal_error', message: 'askbase failed to answer' },
      );
      throw error;
    }
  }

  /** GET /v1/responses/{id}: the response as stored, or as far as it has got. */
  async retrieve(responseId: string, keyName: string | undefined): Promise<Json> {
    const found = await this.find(responseId, keyName);
    const { row, params, response } = found;
    if (response) return response;
    const shell = responseShell(
      responseId,
      { ...params, model: row.model ?? params?.model },
      Math.floor(row.createdAt.getTime() / 1000),
    );
    if (row.status === 'failed' && row.error) {
      return {
        ...shell,
        status: 'failed',
        error: { code: row.error.code, message: row.error.message },
      };
    }
    return shell;
  }

  /** DELETE /v1/responses/{id}: the row goes, as DELETE /qa/{id} would remove it. */
  async delete(responseId: string, keyName: string | undefined): Promise<Json> {
    const { row } = await this.find(responseId, keyName);
    if (!(await this.deps.repository.delete(row.id))) throw responseNotFound(responseId);
    return { id: responseId, object: 'response', deleted: true };
  }

  /** GET /v1/responses/{id}/input_items: the items this response was given, by OpenAI's paging. */
  async inputItems(
    responseId: string,
    keyName: string | undefined,
    page: { limit: number; order: 'asc' | 'desc'; after?: string | undefined },
  ): Promise<InputItemsPage> {
    const { input } = await this.find(responseId, keyName);
    const suffix = responseId.replace(/^resp_/, '');
    const listed = (input ?? []).map((item, index) => listedItem(item, `msg_${suffix}_in${index}`));
    if (page.order === 'desc') listed.reverse();
    const start = page.after === undefined ? 0 : listed.findIndex((i) => i.id === page.after) + 1;
    const data = listed.slice(start, start + page.limit);
    return {
      object: 'list',
      data,
      first_id: (data[0]?.id as string | undefined) ?? null,
      last_id: (data.at(-1)?.id as string | undefined) ?? null,
      has_more: start + page.limit < listed.length,
    };
  }

  /**
   * The response a request continues and the conversation so far: found in the store, by the
   * same key, with its text kept; waited for while its answer is still being recorded.
   */
  private async previous(
    responseId: unknown,
    keyName: string | undefined,
  ): Promise<{ row: QuestionAnswer; items: Json[] } | undefined> {
    if (typeof responseId !== 'string') return undefined;
    const id = responseId;
    const found = await settled(async () => {
      const turn = await this.deps.conversations.response(id);
      return turn && { ...turn, status: turn.row.status };
    });
    if (!found) {
      const still = await this.deps.conversations.response(id);
      if (still?.row.status === 'pending' && visible(still, keyName)) {
        throw new RequestInProgressError(still.row.id);
      }
    }
    if (!found || !visible(found, keyName)) throw notFound(id);
    if (found.row.status !== 'answered') {
      throw new InvalidRequestError(
        `Previous response with id '${id}' failed; continue from one that completed.`,
        'previous_response_id',
      );
    }
    const { items } = await this.deps.conversations.responseItems(found.row.id);
    return { row: found.row, items };
  }

  private async find(responseId: string, keyName: string | undefined) {
    const found = await this.deps.conversations.response(responseId);
    if (!found || !visible(found, keyName)) throw responseNotFound(responseId);
    return found;
  }

  /** A repeated Idempotency-Key: the first response, never a second LLM call. */
  private async replay(existing: QuestionAnswer, question: string): Promise<ResponseResult> {
    if (existing.kind !== 'response' || (existing.textStored && existing.question !== question)) {
      throw new IdempotencyKeyReusedError(existing.id);
    }
    if (existing.status === 'pending') throw new RequestInProgressError(existing.id);
    if (existing.status === 'failed' && existing.error) {
      throw new StoredFailureError(existing.id, existing.error);
    }
    const stored = await this.deps.conversations.exchange(existing.id);
    if (!stored?.response) throw new RequestInProgressError(existing.id);
    return { row: existing, response: stored.response, replayed: true };
  }
}

/** What askbase does not do for a client, in either way of reaching the LLM. */
function refuseUnsupported(body: Json): void {
  if (body.background === true) {
    throw new InvalidRequestError(
      'askbase does not run background responses; ask without "background"',
      'background',
    );
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw new InvalidRequestError(
      'askbase keeps conversations itself: continue one with previous_response_id',
      'conversation',
    );
  }
}

/**
 * A response a key may name again: its own, with its text kept, and not asked with
 * `"store": false` (as with OpenAI, such a response cannot be retrieved or continued).
 */
function visible(found: StoredResponseTurn, keyName: string | undefined): boolean {
  return (
    found.row.keyName === (keyName ?? null) && found.row.textStored && found.params?.store !== false
  );
}

function notFound(id: string): InvalidRequestError {
  return new InvalidRequestError(
    `Previous response with id '${id}' not found.`,
    'previous_response_id',
  );
}

function responseNotFound(id: string): NotFoundError {
  return new NotFoundError(`Response with id '${id}' not found.`);
}
