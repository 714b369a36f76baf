import { eq, sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { questionAnswers } from '../../src/db/schema.js';
import type { Answer, QuestionAnswer } from '../../src/domain/question-answer.js';
import { INTERRUPTED } from '../../src/domain/question-answer.js';
import { ParentGoneError } from '../../src/errors.js';
import { SEARCH_WINDOW_ROWS } from '../../src/repository/question-listing.js';
import { QuestionRepository } from '../../src/repository/question-repository.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';
import { useDatabaseSuite } from '../helpers/suite.js';

const answer = (text: string): Answer => ({
  text,
  model: 'test-model',
  usage: { promptTokens: 3, completionTokens: 5, totalTokens: 8 },
  latencyMs: 42,
});

describe.each(BOTH_DATABASES)('QuestionRepository on $driver', { timeout: 60_000 }, (on) => {
  const suite = useDatabaseSuite({ database: on.database, poolMax: 3 });
  let repository: QuestionRepository;
  beforeAll(() => {
    repository = new QuestionRepository(suite.database);
  });

  const pending = async (question: string) =>
    (await repository.createPending(question, { deadlineMs: 60_000 })).questionAnswer;

  /** An id no row has: far past every id handed out so far. */
  async function unknownId(): Promise<number> {
    const probe = await pending('probe for an unused id');
    await repository.delete(probe.id);
    return probe.id + 1_000_000;
  }

  it('when a question is created, then it is pending with no answer, and get returns it', async () => {
    const created = await pending('What is pending?');

    expect(created).toMatchObject({
      question: 'What is pending?',
      status: 'pending',
      answer: null,
      answeredAt: null,
      model: null,
      usage: null,
      latencyMs: null,
      error: null,
    });
    expect(Number.isSafeInteger(created.id) && created.id > 0).toBe(true);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(await repository.get(created.id)).toEqual(created);
  });

  it('when a turn must follow an answered parent, then it is stored only while that parent is there and answered', async () => {
    const parent = await pending('Parent of a response?');
    const follows = (parentId: number) => ({
      deadlineMs: 60_000,
      kind: 'response' as const,
      follows: { parentId, conversationId: parentId, parentAnswered: true },
    });
    // Not answered yet: nothing to follow.
    await expect(repository.createPending('Too early?', follows(parent.id))).rejects.toBeInstanceOf(
      ParentGoneError,
    );
    await repository.markAnswered(parent.id, parent.attempt, answer('It is.'));
    const child = await repository.createPending('Next?', follows(parent.id));
    expect(child.questionAnswer).toMatchObject({ parentId: parent.id, conversationId: parent.id });
    await repository.delete(parent.id);
    await expect(repository.createPending('Orphan?', follows(parent.id))).rejects.toBeInstanceOf(
      ParentGoneError,
    );
    const listed = await repository.listPage({ limit: 10, search: 'Orphan' });
    expect(listed.items).toEqual([]);
  });

  it("when pending rows of other processes are failed, then this process's own stay pending", async () => {
    const mine = new QuestionRepository(suite.database, `me-${crypto.randomUUID()}`);
    const theirs = new QuestionRepository(suite.database, `them-${crypto.randomUUID()}`);
    const own = (await mine.createPending('Mine, in flight?', { deadlineMs: 60_000 }))
      .questionAnswer;
    const lost = (await theirs.createPending('Theirs, lost?', { deadlineMs: 60_000 }))
      .questionAnswer;
    const failure = { code: INTERRUPTED, message: 'its process is gone' };

    expect(await mine.failPendingOfOthers(failure)).toBeGreaterThanOrEqual(1);
    expect(await mine.get(own.id)).toMatchObject({ status: 'pending' });
    expect(await mine.get(lost.id)).toMatchObject({ status: 'failed', error: failure });
  });

  it('when questions are created one after another, then their ids increase', async () => {
    const first = await pending('First?');
    const second = await pending('Second?');

    expect(second.id).toBeGreaterThan(first.id);
  });

  it('when a pending question is answered, then answer, model, usage, latency and answeredAt are stored', async () => {
    const created = await pending('What is 2 + 2?');

    const answered = await repository.markAnswered(created.id, 1, answer('Four.'));

    expect(answered).toMatchObject({
      id: created.id,
      question: 'What is 2 + 2?',
      status: 'answered',
      answer: 'Four.',
      model: 'test-model',
      usage: { promptTokens: 3, completionTokens: 5, totalTokens: 8 },
      latencyMs: 42,
      error: null,
    });
    expect(answered?.answeredAt).toBeInstanceOf(Date);
    expect(answered?.createdAt).toEqual(created.createdAt);
    expect(await repository.get(created.id)).toEqual(answered);
  });

  it('when the answer has no usage, then usage is null', async () => {
    const created = await pending('Usage unknown?');

    const answered = await repository.markAnswered(created.id, 1, {
      ...answer('Yes.'),
      usage: null,
    });

    expect(answered?.status).toBe('answered');
    expect(answered?.usage).toBeNull();
  });

  it('when markAnswered gets an unknown id, then it returns undefined', async () => {
    expect(await repository.markAnswered(await unknownId(), 1, answer('Lost.'))).toBeUndefined();
  });

  it('when markAnswered gets an already answered question, then it returns undefined and the first answer stays', async () => {
    const created = await pending('Answered twice?');
    const first = await repository.markAnswered(created.id, 1, answer('Once.'));

    const second = await repository.markAnswered(created.id, 1, answer('Twice.'));

    expect(second).toBeUndefined();
    expect(await repository.get(created.id)).toEqual(first);
  });

  it('when markAnswered gets a failed question, then it returns undefined and the row stays failed', async () => {
    const created = await pending('Too late?');
    await repository.markFailed(created.id, 1, { code: 'llm_timeout', message: 'too slow' });

    expect(await repository.markAnswered(created.id, 1, answer('Late.'))).toBeUndefined();
    expect(await repository.get(created.id)).toMatchObject({ status: 'failed', answer: null });
  });

  it('when a pending question fails, then status failed and the error are stored', async () => {
    const created = await pending('Will this fail?');

    const failed = await repository.markFailed(created.id, 1, {
      code: 'llm_unavailable',
      message: 'the LLM could not be reached',
    });

    expect(failed).toMatchObject({
      id: created.id,
      status: 'failed',
      answer: null,
      answeredAt: null,
      error: { code: 'llm_unavailable', message: 'the LLM could not be reached' },
    });
    expect(await repository.get(created.id)).toEqual(failed);
  });

  it('when markFailed gets an unknown id or an answered question, then it returns undefined and changes nothing', async () => {
    const created = await pending('Already answered?');
    const answered = await repository.markAnswered(created.id, 1, answer('Yes.'));
    const error = { code: 'llm_timeout', message: 'too slow' };

    expect(await repository.markFailed(await unknownId(), 1, error)).toBeUndefined();
    expect(await repository.markFailed(created.id, 1, error)).toBeUndefined();
    expect(await repository.get(created.id)).toEqual(answered);
  });

  it('when get gets an unknown id, then it returns undefined', async () => {
    expect(await repository.get(await unknownId())).toBeUndefined();
  });

  it('when a question is deleted, then delete returns true once, then false, and get finds nothing', async () => {
    const created = await pending('Delete me?');

    expect(await repository.delete(created.id)).toBe(true);
    expect(await repository.get(created.id)).toBeUndefined();
    expect(await repository.delete(created.id)).toBe(false);
  });

  it('when a pending question is deleted, then a late markAnswered returns undefined and stores nothing', async () => {
    const created = await pending('Deleted while the LLM thinks?');
    await repository.delete(created.id);

    expect(await repository.markAnswered(created.id, 1, answer('Too late.'))).toBeUndefined();
    expect(await repository.get(created.id)).toBeUndefined();
  });

  it('when a question with Unicode is stored, then it reads back exactly', async () => {
    const question = 'Emoji 👩‍👩‍👧‍👦, עברית, 中文, Cafe\u0301';

    const created = await pending(question);
    await repository.markAnswered(created.id, 1, answer(`Re: ${question}`));

    expect(await repository.get(created.id)).toMatchObject({
      question,
      answer: `Re: ${question}`,
    });
  });

  it('when paging with afterId, then every row comes exactly once, newest first, and nextAfterId ends undefined', async () => {
    const created: QuestionAnswer[] = [];
    for (let i = 0; i < 11; i += 1) created.push(await pending(`Page #${i}?`));
    const mine = new Set(created.map((qa) => qa.id));

    // Other tests add rows to this database too: walk all of it, then look at ours.
    const pages = [];
    let afterId: number | undefined;
    do {
      const page = await repository.listPage({ limit: 4, afterId });
      pages.push(page);
      afterId = page.nextAfterId;
      expect(pages.length).toBeLessThan(1000);
    } while (afterId !== undefined);

    const ids = pages.flatMap((page) => page.items.map((qa) => qa.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(ids.filter((id) => mine.has(id))).toEqual(created.map((qa) => qa.id).reverse());
    for (const page of pages.slice(0, -1)) {
      expect(page.items).toHaveLength(4);
      expect(page.nextAfterId).toBe(page.items.at(-1)?.id);
    }
    expect(pages.at(-1)?.nextAfterId).toBeUndefined();
    expect(pages.at(-1)?.items.length).toBeGreaterThan(0);
  });

  it('when a searched word is in rows on both sides of the newest rows a search looks at first, then paging finds every match once, newest first', async () => {
    const word = `needle${Date.now().toString(36)}`;
    const old = [];
    for (let i = 0; i < 3; i += 1) old.push(await pending(`Old ${word} ${i}?`));
    await suite.database.db.execute(
      sql`insert into question_answers (question, answer, status, answered_at)
          select 'Filler row ' || g, 'Filler answer', 'answered', now()
            from generate_series(1, ${SEARCH_WINDOW_ROWS + 10}) as g`,
    );
    const recent = [await pending(`New ${word} 1?`), await pending(`New ${word} 2?`)];

    const ids: number[] = [];
    let afterId: number | undefined;
    do {
      const page = await repository.listPage({ limit: 2, afterId, search: word });
      ids.push(...page.items.map((qa) => qa.id));
      afterId = page.nextAfterId;
      expect(ids.length).toBeLessThan(100);
    } while (afterId !== undefined);

    expect(ids).toEqual([...recent, ...old].map((qa) => qa.id).sort((a, b) => b - a));
  });

  it('when paging after the newer of two rows, then the page starts just below it', async () => {
    const older = await pending('Older?');
    const newer = await pending('Newer?');

    const page = await repository.listPage({ limit: 1, afterId: newer.id });

    expect(page.items.map((qa) => qa.id)).toEqual([older.id]);
  });

  it('when afterId is at or below the first id, then the page is empty with no nextAfterId', async () => {
    const page = await repository.listPage({ limit: 10, afterId: 1 });

    expect(page).toEqual({ items: [], nextAfterId: undefined });
  });

  it('when an idempotency key is used twice, then the second call inserts nothing and returns the first row', async () => {
    const key = `repo-${crypto.randomUUID()}`;
    const first = await repository.createPending('Keyed once?', {
      idempotencyKey: key,
      deadlineMs: 60_000,
    });
    const second = await repository.createPending('Keyed twice?', {
      idempotencyKey: key,
      deadlineMs: 60_000,
    });

    expect(first.created).toBe(true);
    expect(second).toEqual({ created: false, questionAnswer: first.questionAnswer });
  });

  it('when a failed question is reopened, then it is pending again with no error; other states are left alone', async () => {
    const failed = await pending('Reopen me?');
    await repository.markFailed(failed.id, 1, { code: 'llm_timeout', message: 'slow' });
    const answered = await pending('Leave me?');
    await repository.markAnswered(answered.id, 1, {
      text: 'Done.',
      model: 'm',
      usage: null,
      latencyMs: 1,
    });

    expect(await repository.reopenFailed(failed.id, 60_000)).toMatchObject({
      id: failed.id,
      status: 'pending',
      error: null,
      attempt: 2,
    });
    expect(await repository.reopenFailed(answered.id, 60_000)).toBeUndefined();
  });

  it('when a question was reopened, then only the new attempt can record its outcome; a late one of the first changes nothing', async () => {
    const asked = await pending('Whose row?');
    await repository.markFailed(asked.id, 1, { code: 'llm_timeout', message: 'slow' });
    await repository.reopenFailed(asked.id, 60_000);

    expect(
      await repository.markAnswered(asked.id, 1, answer('Late, first attempt.')),
    ).toBeUndefined();
    expect(
      await repository.markFailed(asked.id, 1, { code: 'llm_timeout', message: 'late' }),
    ).toBeUndefined();
    expect(await repository.get(asked.id)).toMatchObject({ status: 'pending', attempt: 2 });
    expect(await repository.markAnswered(asked.id, 2, answer('Second attempt.'))).toMatchObject({
      status: 'answered',
      answer: 'Second attempt.',
    });
  });

  it('when a pending row is past its deadline by more than the margin, then only it is failed as interrupted, and a late answer of its attempt still lands', async () => {
    const stale = (await repository.createPending('Stale?', { deadlineMs: -120_000 }))
      .questionAnswer;
    const fresh = await pending('Fresh?');
    // Old by creation but with its deadline ahead: a retried question, or an ask of a replica
    // with a longer timeout.
    const old = await pending('Old but live?');
    await suite.database.db
      .update(questionAnswers)
      .set({ createdAt: new Date(Date.now() - 86_400_000) })
      .where(eq(questionAnswers.id, old.id));

    const failedCount = await repository.failStalePending(60_000, {
      code: INTERRUPTED,
      message: 'process stopped',
    });

    expect(failedCount).toBeGreaterThanOrEqual(1);
    expect((await repository.get(stale.id))?.error?.code).toBe(INTERRUPTED);
    expect((await repository.get(fresh.id))?.status).toBe('pending');
    expect((await repository.get(old.id))?.status).toBe('pending');
    const late = await repository.markAnswered(stale.id, 1, {
      text: 'Late but paid for.',
      model: 'm',
      usage: null,
      latencyMs: 1,
    });
    expect(late).toMatchObject({ status: 'answered', answer: 'Late but paid for.', error: null });
  });
});
