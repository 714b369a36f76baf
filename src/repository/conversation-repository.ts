import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import type { ChatMessage, History } from '../domain/question-answer.js';
import type {
  ConversationStore,
  StoredExchange,
  StoredResponseTurn,
  StoredTurn,
} from '../qa/ports.js';
import { columns, toQuestionAnswer } from './question-columns.js';
import { inConversation } from './question-filters.js';
import { withAnswerText } from './stored-response.js';
import { rowsOf, runStatement } from './statements.js';

const t = questionAnswers;
const turnColumns = {
  id: t.id,
  conversationId: t.conversationId,
  status: t.status,
  stateDigest: t.stateDigest,
  requestDigest: t.requestDigest,
};

/** One turn of a chain, as the recursive query reads it (newest last). */
interface ChainRow {
  id: number | string;
  parent_id: number | string | null;
  kind: string;
  question: string | null;
  answer: string | null;
  request_messages: ChatMessage[] | null;
  request_params: Record<string, unknown> | null;
  response: Record<string, unknown> | null;
}

/** The most turns a chain is followed back; a longer one reads as incomplete. */
const MAX_TURNS = 10_000;

/** Conversations over the question_answers table: finding a parent, and reading turns whole. */
export class ConversationRepository implements ConversationStore {
  private readonly statements;

  constructor(private readonly database: Database) {
    this.statements = {
      byDigest: database.db
        .select(turnColumns)
        .from(t)
        .where(
          sql`(${t.stateDigest} = any(${sql.placeholder('states')}::text[]) and ${t.status} = 'answered')
              or (${t.requestDigest} = any(${sql.placeholder('requests')}::text[]) and ${t.status} = 'pending')`,
        )
        .prepare('askbase_turns_by_digest'),
      turn: database.db
        .select(turnColumns)
        .from(t)
        .where(eq(t.id, sql.placeholder('id')))
        .prepare('askbase_turn_by_id'),
      response: database.db
        .select({
          ...columns,
          input: t.requestMessages,
          params: t.requestParams,
          response: t.response,
        })
        .from(t)
        .where(eq(t.responseId, sql.placeholder('responseId')))
        .prepare('askbase_response_by_id'),
    };
  }

  findTurns(states: string[], requests: string[]): Promise<StoredTurn[]> {
    return runStatement(this.database, () =>
      this.statements.byDigest.execute({ states, requests }),
    );
  }

  turn(id: number): Promise<StoredTurn | undefined> {
    return runStatement(this.database, async () => (await this.statements.turn.execute({ id }))[0]);
  }

  history(id: number): Promise<History> {
    return runStatement(this.database, async () => {
      const chain = await this.chain(id);
      return { messages: messagesOf(chain, true), complete: isComplete(chain) };
    });
  }

  exchange(id: number): Promise<StoredExchange | undefined> {
    return runStatement(this.database, async () => {
      const [row] = await this.database.db.select(columns).from(t).where(eq(t.id, id));
      if (!row) return undefined;
      const chain = await this.chain(id);
      const last = chain.at(-1);
      const request = !row.textStored || !last ? null : requestOf(chain, last, row.model);
      return {
        row: toQuestionAnswer(row),
        request,
        response: last?.response
          ? withAnswerText(last.response, last.answer)
          : row.textStored
            ? askResponse(last)
            : null,
        historyComplete: isComplete(chain),
      };
    });
  }

  response(responseId: string): Promise<StoredResponseTurn | undefined> {
    return runStatement(this.database, async () => {
      const [found] = await this.statements.response.execute({ responseId });
      if (!found) return undefined;
      const { input, params, response, ...row } = found;
      return {
        row: toQuestionAnswer(row),
        input: (input as Record<string, unknown>[] | null) ?? null,
        params: params ?? null,
        response: response ? withAnswerText(response, row.answer) : null,
      };
    });
  }

  responseItems(id: number): Promise<{ items: Record<string, unknown>[]; complete: boolean }> {
    return runStatement(this.database, async () => {
      const chain = await this.chain(id);
      return { items: itemsOf(chain), complete: isComplete(chain) };
    });
  }

  turns(conversationId: number): Promise<ReturnType<typeof toQuestionAnswer>[]> {
    return runStatement(this.database, async () => {
      const rows = await this.database.db
        .select(columns)
        .from(t)
        .where(inConversation(conversationId))
        .orderBy(asc(t.id));
      return rows.map(toQuestionAnswer);
    });
  }

  /** Turn `id` and the turns it follows, oldest first. */
  private chain(id: number): Promise<ChainRow[]> {
    return rowsOf<ChainRow>(
      this.database,
      sql`with recursive chain as (
            select id, parent_id, kind, question, answer, request_messages, request_params, response, 0 as depth
              from ${t} where id = ${id}
            union all
            select q.id, q.parent_id, q.kind, q.question, q.answer, q.request_messages, q.request_params, q.response, chain.depth + 1
              from ${t} q join chain on q.id = chain.parent_id
             where chain.depth < ${MAX_TURNS})
          select id, parent_id, kind, question, answer, request_messages, request_params, response
            from chain order by depth desc`,
    );
  }
}

/**
 * The request of a chain's last turn as its client sent it, every earlier turn included: a
 * chat turn's messages, a response's input items (its own, after its parents' inputs and
 * outputs), an ask's question.
 */
function requestOf(
  chain: ChainRow[],
  last: ChainRow,
  model: string | null,
): Record<string, unknown> {
  if (last.kind === 'response') {
    return { ...(last.request_params ?? {}), input: itemsOf(chain.slice(0, -1), last) };
  }
  return {
    ...(last.kind === 'chat' ? (last.request_params ?? {}) : { model }),
    messages: messagesOf(chain, false),
  };
}

/** Each response's input items and output items, oldest first, then `last`'s input. */
function itemsOf(chain: ChainRow[], last?: ChainRow): Record<string, unknown>[] {
  const items = chain.flatMap((turn) => {
    const output = turn.response && withAnswerText(turn.response, turn.answer).output;
    return [
      ...((turn.request_messages ?? []) as Record<string, unknown>[]),
      ...(Array.isArray(output) ? (output as Record<string, unknown>[]) : []),
    ];
  });
  return last ? [...items, ...((last.request_messages ?? []) as Record<string, unknown>[])] : items;
}

/** A chain is whole when its oldest turn is a first turn. */
function isComplete(chain: ChainRow[]): boolean {
  return chain.length > 0 && chain[0]?.parent_id === null;
}

/** Every turn's new messages and answer, oldest first; the last turn's answer when asked. */
function messagesOf(chain: ChainRow[], withLastAnswer: boolean): ChatMessage[] {
  const messages: ChatMessage[] = [];
  chain.forEach((turn, index) => {
    const last = index === chain.length - 1;
    if (turn.kind === 'chat') {
      messages.push(...(turn.request_messages ?? []));
    } else if (turn.question !== null) {
      messages.push({ role: 'user', content: turn.question });
    }
    if (last && !withLastAnswer) return;
    const answer = answerOf(turn);
    if (answer) messages.push(answer);
  });
  return messages;
}

function answerOf(turn: ChainRow): ChatMessage | undefined {
  const choices = turn.response && withAnswerText(turn.response, turn.answer).choices;
  const message = Array.isArray(choices)
    ? ((choices[0] as { message?: ChatMessage } | undefined)?.message ?? undefined)
    : undefined;
  if (message) {
    return {
      role: 'assistant',
      content: message.content ?? null,
      ...(Array.isArray(message.tool_calls) && { tool_calls: message.tool_calls }),
    };
  }
  return turn.answer === null ? undefined : { role: 'assistant', content: turn.answer };
}

/** An ask's answer in the shape of a chat completion, so every exchange reads back alike. */
function askResponse(turn: ChainRow | undefined): Record<string, unknown> | null {
  if (!turn || turn.answer === null) return null;
  return {
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: turn.answer } }],
  };
}
