import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { QuestionRepository } from '../../src/repository/question-repository.js';
import { backfillSearchTerms } from '../../src/repository/search-backfill.js';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { BOTH_DATABASES } from '../helpers/each-database.js';
import { type QaJson, expectOk } from '../helpers/http.js';
import { waitFor } from '../helpers/wait-for.js';

/** The questions every listing test below reads, oldest first, each with its answer. */
const ASKED = [
  { question: '東京タワーの高さはどれくらいですか', answer: '東京タワーの高さは333メートルです。' },
  { question: '北京是中国的首都吗', answer: '是的，北京是中华人民共和国的首都。' },
  { question: 'เมืองหลวงของประเทศไทยคืออะไร', answer: 'กรุงเทพมหานคร' },
  { question: '서울에서 맛있는 음식을 추천해 주세요', answer: '비빔밥을 드셔 보세요.' },
  { question: 'Какая столица России?', answer: 'Москва — столица России.' },
  // 日本 and 本語 are both in it, but not 日本語.
  { question: '日本の本語りとは', answer: '本を語ることです。' },
  { question: 'What is the tallest tower in Paris?', answer: 'The Eiffel Tower.' },
  { question: 'Is 東京 bigger than Paris?', answer: 'Yes, 東京 is bigger.' },
  { question: 'Où est l’ÉCOLE ?', answer: 'Près de la gare.' },
  { question: '秘密の質問です', answer: '秘密の答えです', store: false },
] as const;

describe.each(BOTH_DATABASES)(
  'search in every script on $driver',
  { timeout: 120_000 },
  ({ database }) => {
    const suite = useAskbaseSuite({ database });
    /** ASKED[i]'s id. */
    const ids: number[] = [];
    beforeAll(async () => {
      for (const { question, answer, ...rest } of ASKED) {
        suite.fake.setBehavior({ answer: () => answer });
        const store = 'store' in rest ? rest.store : true;
        ids.push((await expectOk<QaJson>(await ask(suite.askbase.url, { question, store }))).id);
      }
    });

    /** The ASKED indexes of what `GET /qas?q=…` found, newest first. */
    async function search(q: string): Promise<number[]> {
      const found = await expectOk<QaJson[]>(
        await fetch(`${suite.askbase.url}/qas?q=${encodeURIComponent(q)}`),
      );
      return found.map((row) => ids.indexOf(row.id));
    }

    it('when q is a word inside a sentence written without spaces, then that question is found', async () => {
      expect(await search('タワー')).toEqual([0]);
      expect(await search('首都')).toEqual([1]);
      expect(await search('中国')).toEqual([1]);
      expect(await search('เมืองหลวง')).toEqual([2]);
      expect(await search('서울')).toEqual([3]);
    });

    it('when q is a word only the answer has, then its question is found', async () => {
      expect(await search('メートル')).toEqual([0]);
      expect(await search('กรุงเทพ')).toEqual([2]);
      expect(await search('비빔밥')).toEqual([3]);
    });

    it('when q is a whole sentence, or one character, then the questions holding it are found', async () => {
      expect(await search('東京タワーの高さはどれくらいですか')).toEqual([0]);
      expect(await search('京')).toEqual([7, 1, 0]);
    });

    it('when every pair of a word is in a text but not the word itself, then it is not found', async () => {
      expect(await search('日本')).toEqual([5]);
      expect(await search('日本語')).toEqual([]);
    });

    it('when q is in another alphabet and another case, then case does not matter', async () => {
      expect(await search('МОСКВА')).toEqual([4]);
      expect(await search('москва')).toEqual([4]);
      expect(await search('école')).toEqual([8]);
    });

    it('when q mixes scripts and web search syntax, then every part must hold and -word excludes', async () => {
      expect(await search('東京 bigger')).toEqual([7]);
      expect(await search('東京 -paris')).toEqual([0]);
      expect(await search('tower -東京')).toEqual([6]);
      expect(await search('the 東京')).toEqual([7, 0]);
    });

    it('when q is an English word, then its other forms are still found by stemming', async () => {
      expect(await search('towers')).toEqual([6]);
    });

    it('when a question was asked with "store": false, then no word of it is found', async () => {
      expect(await search('秘密')).toEqual([]);
    });

    it('when a row was stored by an older version, then the background job makes it findable, answer included', async () => {
      // As an older askbase left it: no search terms; then its answer arrives.
      await suite.askbase.housekeep(); // the run at start is over: only the call below indexes it
      const inserted = (await suite.askbase.database.db.execute(
        sql`insert into question_answers (question, search_terms) values ('大阪城はいつ建てられましたか', null) returning id`,
      )) as { rows: { id: number | string }[] };
      const id = Number(inserted.rows[0]?.id);
      const repository = new QuestionRepository(suite.askbase.database);
      await repository.markAnswered(id, 1, {
        text: '大阪城は1583年に建てられました',
        model: 'm',
        usage: null,
        latencyMs: 1,
      });
      try {
        const before = await search('大阪城');

        const indexed = await backfillSearchTerms(repository, createLogger('silent'));

        expect(before).toEqual([]);
        expect(indexed).toBe(1);
        const found = await expectOk<QaJson[]>(await fetch(`${suite.askbase.url}/qas?q=1583年`));
        expect(found.map((row) => row.id)).toEqual([id]);
        expect(await backfillSearchTerms(repository, createLogger('silent'))).toBe(0);
      } finally {
        await fetch(`${suite.askbase.url}/qa/${id}`, { method: 'DELETE' });
      }
    });
  },
);

describe('search terms of older rows', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({ llm: 'none', askbase: false });

  it('when askbase starts on rows an older version stored, then it indexes them in the background', async () => {
    const first = await suite.start();
    await first.database.db.execute(
      sql`insert into question_answers (question, search_terms) values ('名古屋の名物は何ですか', null)`,
    );
    await first.stop();

    const second = await suite.start();
    const found = await waitFor(
      async () => {
        const rows = (await (
          await fetch(`${second.url}/qas?q=${encodeURIComponent('名物')}`)
        ).json()) as QaJson[];
        return rows.length > 0 && rows;
      },
      { what: 'the older row to be found' },
    );
    expect(found.map((row) => row.question)).toEqual(['名古屋の名物は何ですか']);
  });
});
