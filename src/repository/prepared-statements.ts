import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { questionAnswers } from '../db/schema.js';
import { answeredRow } from './answered-row.js';
import { pendingRow } from './pending-row.js';
import { columns, ownedOpenRow } from './question-columns.js';

/**
 * The statements on every ask and read, built once and prepared: a call only binds its
 * parameters. Building them per call cost more CPU than the rest of the request.
 */
export function prepareStatements({ db }: Database) {
  const param = (name: string) => sql`${sql.placeholder(name)}`;
  return {
    insertPending: db
      .insert(questionAnswers)
      .values(pendingRow(param))
      .onConflictDoNothing({ target: questionAnswers.idempotencyKey })
      .returning(columns)
      .prepare('askbase_insert_pending'),
    selectByIdempotencyKey: db
      .select(columns)
      .from(questionAnswers)
      .where(eq(questionAnswers.idempotencyKey, sql.placeholder('idempotencyKey')))
      .prepare('askbase_select_by_idempotency_key'),
    markAnswered: db
      .update(questionAnswers)
      .set(answeredRow(param))
      .where(ownedOpenRow(sql.placeholder('id'), sql.placeholder('attempt')))
      .returning(columns)
      .prepare('askbase_mark_answered'),
    nameConversation: db
      .update(questionAnswers)
      .set({ conversationId: questionAnswers.id })
      .where(
        and(eq(questionAnswers.id, sql.placeholder('id')), isNull(questionAnswers.conversationId)),
      )
      .prepare('askbase_name_conversation'),
    selectById: db
      .select(columns)
      .from(questionAnswers)
      .where(eq(questionAnswers.id, sql.placeholder('id')))
      .prepare('askbase_select_by_id'),
  };
}
