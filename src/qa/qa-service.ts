import type { FastifyBaseLogger } from 'fastify';
import type { Answerer } from '../answerer/answerer.js';
import { InvalidRequestError, LlmError, LlmNotConfiguredError, NotFoundError } from '../errors.js';
import type { QuestionRepository } from '../repository/question-repository.js';
import type { Answer, ListFilter, Page, QuestionAnswer, Usage } from './question-answer.js';

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

export interface QaServiceDeps {
  repository: QuestionRepository;
  /** Undefined when no LLM is configured: asks are refused before anything is stored. */
  answerer: Answerer | undefined;
  maxQuestionLength: number;
  logger: FastifyBaseLogger;
  llmCalls: LlmCallRecorder;
}

/** What a streaming ask reports as it goes; listeners must not throw. */
export interface AskProgress {
  /** The question is stored as pending; the LLM is asked next. */
  created(pending: QuestionAnswer): void;
  /** The next piece of the answer's text, in order. */
  delta(text: string): void;
}

type AskLlm = (answerer: Answerer, question: string) => Promise<Answer>;

/** The ask lifecycle, and reading back what it stored. */
export class QaService {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly deps: QaServiceDeps) {}

  /**
   * Stores the question as pending, asks the LLM with no database connection held, then
   * records the answer or the failure. The lifecycle runs to the end even if the caller goes
   * away, so a paid-for answer is stored; `drain()` waits for those still running.
   */
  ask(rawQuestion: string): Promise<QuestionAnswer> {
    return this.startAsk(rawQuestion, (answerer, question) => answerer.answer(question));
  }

  /**
   * The same lifecycle, reporting the stored question and each piece of the answer as they
   * arrive. Validation errors and llm_not_configured are thrown before anything is reported.
   */
  askStreaming(rawQuestion: string, progress: AskProgress): Promise<QuestionAnswer> {
    return this.startAsk(
      rawQuestion,
      (answerer, question) => answerer.answerStream(question, (text) => progress.delta(text)),
      (pending) => progress.created(pending),
    );
  }

  async get(id: number): Promise<QuestionAnswer> {
    const found = await this.deps.repository.get(id);
    if (!found) throw new NotFoundError(`no question with id ${id}`);
    return found;
  }

  async delete(id: number): Promise<void> {
    if (!(await this.deps.repository.delete(id))) {
      throw new NotFoundError(`no question with id ${id}`);
    }
  }

  list(options: { limit: number; afterId?: number } & ListFilter): Promise<Page<QuestionAnswer>> {
    return this.deps.repository.listPage(options);
  }

  /** Resolves when every ask in flight has stored its outcome, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<{ unfinished: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
    return { unfinished: this.inFlight.size };
  }

  private startAsk(
    rawQuestion: string,
    askLlm: AskLlm,
    onCreated?: (pending: QuestionAnswer) => void,
  ): Promise<QuestionAnswer> {
    const question = this.validQuestion(rawQuestion);
    const answerer = this.deps.answerer;
    if (!answerer) throw new LlmNotConfiguredError();
    const lifecycle = this.runAsk(question, () => askLlm(answerer, question), onCreated);
    this.inFlight.add(lifecycle);
    void lifecycle.then(
      () => this.inFlight.delete(lifecycle),
      () => this.inFlight.delete(lifecycle),
    );
    return lifecycle;
  }

  private async runAsk(
    question: string,
    askLlm: () => Promise<Answer>,
    onCreated?: (pending: QuestionAnswer) => void,
  ): Promise<QuestionAnswer> {
    const { repository, logger, llmCalls } = this.deps;
    const pending = await repository.createPending(question);
    onCreated?.(pending);
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let answer;
    try {
      answer = await askLlm();
    } catch (error) {
      const outcome = error instanceof LlmError ? error.code : 'error';
      llmCalls.llmCall({ outcome, seconds: seconds(), usage: null });
      if (!(error instanceof LlmError)) throw error;
      await repository.markFailed(pending.id, { code: error.code, message: error.message });
      throw error.withQuestionId(pending.id);
    }
    llmCalls.llmCall({ outcome: 'answered', seconds: seconds(), usage: answer.usage });
    const stored = await repository.markAnswered(pending.id, answer);
    if (stored) return stored;
    // Deleted while the LLM was answering: honour the delete, still hand back the answer.
    logger.info({ questionId: pending.id }, 'question deleted before its answer arrived');
    return {
      ...pending,
      status: 'answered',
      answer: answer.text,
      answeredAt: new Date(),
      model: answer.model,
      usage: answer.usage,
      latencyMs: answer.latencyMs,
    };
  }

  private validQuestion(raw: string): string {
    const question = raw.trim();
    if (question === '') {
      throw new InvalidRequestError('question must be a non-empty string', 'question');
    }
    // Counted in characters (code points), as a person would count them.
    const length = [...question].length;
    if (length > this.deps.maxQuestionLength) {
      throw new InvalidRequestError(
        `question must be at most ${this.deps.maxQuestionLength} characters (got ${length})`,
        'question',
      );
    }
    // PostgreSQL text cannot hold NUL, and lone surrogates cannot be stored as UTF-8.
    if (question.includes('\u0000')) {
      throw new InvalidRequestError('question must not contain NUL characters', 'question');
    }
    if (!question.isWellFormed()) {
      throw new InvalidRequestError('question must be valid Unicode text', 'question');
    }
    return question;
  }
}
