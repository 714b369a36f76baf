import { setMaxListeners } from 'node:events';
import { AskInterruptedError, LlmError, LlmTimeoutError } from '../errors.js';
import type { Answer, ExchangeRecord, QuestionAnswer } from '../domain/question-answer.js';
import type { ModelPrices } from '../pricing/model-prices.js';
import type { OutcomeRecorder } from './outcome-recorder.js';
import type { LlmCallRecorder } from './ports.js';

export interface AnswerAttemptsDeps {
  outcomes: OutcomeRecorder;
  prices: ModelPrices;
  llmCalls: LlmCallRecorder;
  /** The most one attempt may take, retries, Retry-After waits and streaming included. */
  askTimeoutMs: number;
}

export interface AttemptOptions<T extends Answer> {
  /** What a chat turn stores beside its answer. */
  exchange?: ((answer: T) => ExchangeRecord) | undefined;
  /** What has arrived of a streamed answer so far: kept with the failure if it breaks off. */
  partial?: (() => string) | undefined;
}

/** What an attempt asks the LLM for; `signal` ends it (the deadline, or shutdown). */
export type LlmCallOf<T extends Answer> = (signal: AbortSignal) => Promise<T>;

/**
 * One attempt at answering a stored pending row, whatever asked (POST /ask or an OpenAI
 * client): under one deadline, ended by shutdown, and its outcome (the answer with its cost,
 * or why there is none) recorded durably. Attempts run to the end even when their caller has
 * gone away, so a paid-for answer is stored; `drain()` waits for those still running.
 */
export class AnswerAttempts {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: AnswerAttemptsDeps) {
    // Every attempt in flight listens for the stop: thousands of listeners are expected.
    setMaxListeners(0, this.stopping.signal);
  }

  /**
   * Calls the LLM for `pending` and records the outcome. `exchange` tells what a chat turn
   * stores beside the answer. The caller gets the row with the answer's text, stored or not;
   * a failure is recorded and thrown as an LlmError naming the row.
   */
  run<T extends Answer>(
    pending: QuestionAnswer,
    call: LlmCallOf<T>,
    options?: AttemptOptions<T>,
  ): Promise<{ row: QuestionAnswer; answer: T }> {
    return this.start(pending, call, options).recorded;
  }

  /**
   * The same attempt, with its answer as soon as the LLM gave it (`answered`), before it is
   * recorded (`recorded`, which the attempt awaits whoever waits for it, and `drain()` too). A
   * failure rejects both, once it is recorded, so that the error names the row.
   */
  start<T extends Answer>(
    pending: QuestionAnswer,
    call: LlmCallOf<T>,
    options: AttemptOptions<T> = {},
  ): { answered: Promise<T>; recorded: Promise<{ row: QuestionAnswer; answer: T }> } {
    let answeredNow: (answer: T) => void = () => undefined;
    const early = new Promise<T>((resolve) => (answeredNow = resolve));
    const recorded = this.track(this.attempt(pending, call, options, answeredNow));
    const answered = Promise.race([early, recorded.then(({ answer }) => answer)]);
    // Whoever waits on one of them hears of a failure; the other must not report it again.
    answered.catch(() => undefined);
    recorded.catch(() => undefined);
    return { answered, recorded };
  }

  private async attempt<T extends Answer>(
    pending: QuestionAnswer,
    call: LlmCallOf<T>,
    { exchange, partial }: AttemptOptions<T>,
    answeredNow?: (answer: T) => void,
  ): Promise<{ row: QuestionAnswer; answer: T }> {
    const { llmCalls, askTimeoutMs, outcomes } = this.deps;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const { id, attempt } = pending;
    // One deadline for the whole attempt: the SDK's own timeout is per request, and it sleeps
    // for whatever Retry-After says between retries.
    const controller = new AbortController();
    const deadline = setTimeout(
      () =>
        controller.abort(new LlmTimeoutError(`the LLM did not answer within ${askTimeoutMs} ms`)),
      askTimeoutMs,
    );
    const interrupt = () => controller.abort(new AskInterruptedError());
    if (this.stopping.signal.aborted) interrupt();
    this.stopping.signal.addEventListener('abort', interrupt, { once: true });
    let answer: T;
    try {
      answer = await untilAborted(call(controller.signal), controller.signal);
    } catch (raised) {
      const error: unknown = controller.signal.aborted ? controller.signal.reason : raised;
      const outcome = error instanceof LlmError ? error.code : 'error';
      llmCalls.llmCall({ outcome, seconds: seconds(), usage: null });
      if (!(error instanceof LlmError)) throw error;
      await outcomes.record({
        kind: 'failed',
        id,
        attempt,
        code: error.code,
        message: error.message,
        partialAnswer: pending.textStored ? partial?.() || undefined : undefined,
      });
      throw error.withQuestionId(id);
    } finally {
      clearTimeout(deadline);
      this.stopping.signal.removeEventListener('abort', interrupt);
    }
    answeredNow?.(answer);
    llmCalls.llmCall({ outcome: 'answered', seconds: seconds(), usage: answer.usage });
    const answeredAt = new Date();
    const { costUsd, price } = this.deps.prices.costOf(answer.model, answer.usage);
    const stored = await outcomes.record({
      kind: 'answered',
      id,
      attempt,
      // Without its text, when the row keeps none: not in the database, not in the spool.
      answer: {
        text: pending.textStored ? answer.text : null,
        model: answer.model,
        usage: answer.usage,
        latencyMs: answer.latencyMs,
        finishReason: answer.finishReason,
        ttftMs: answer.ttftMs,
        costUsd,
        price,
        exchange: pending.textStored ? exchange?.(answer) : undefined,
      },
      answeredAt: answeredAt.toISOString(),
    });
    const row: QuestionAnswer = stored ?? {
      ...pending,
      status: 'answered',
      answer: answer.text,
      answeredAt,
      model: answer.model,
      usage: answer.usage,
      latencyMs: answer.latencyMs,
      ttftMs: answer.ttftMs ?? null,
      finishReason: answer.finishReason ?? null,
      costUsd,
      error: null,
    };
    return { row: { ...row, answer: answer.text }, answer };
  }

  /** Ends every attempt still waiting on the LLM: each is stored as `interrupted`. */
  interruptAll(): void {
    this.stopping.abort();
  }

  /** Resolves when every attempt in flight has stored its outcome, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<{ unfinished: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
    return { unfinished: this.inFlight.size };
  }

  private track<T>(lifecycle: Promise<T>): Promise<T> {
    this.inFlight.add(lifecycle);
    const forget = () => this.inFlight.delete(lifecycle);
    lifecycle.then(forget, forget);
    return lifecycle;
  }
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // its late failure, after an abort, is expected
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
    ),
  ]);
}
