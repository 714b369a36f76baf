import { sql } from 'drizzle-orm';
import OpenAI, { APIError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/index.js';
import { describe, expect, it } from 'vitest';
import { messageText } from '../fake-openai/fake-openai.js';
import { ask } from '../helpers/askbase.js';
import { BOTH_DATABASES, unique } from '../helpers/each-database.js';
import { expectOk, settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

/** A stored row as GET /qa/{id} returns it (the fields these tests read). */
interface Turn {
  id: number;
  kind: string;
  question: string | null;
  answer: string | null;
  status: string;
  conversation_id: number | null;
  parent_id: number | null;
}

interface Exchange {
  id: number;
  request: { messages: ChatCompletionMessageParam[]; [field: string]: unknown };
  history_complete: boolean;
}

const clientOf = (url: string, apiKey = 'client-key') =>
  new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });

const idOf = (response: Response) => Number(response.headers.get('x-askbase-id'));

/** Text of about `length` characters that no other turn shares (compression finds little). */
function filler(label: string, length: number): string {
  let text = unique(`${label} `);
  while (text.length < length) text += ` ${Math.random().toString(36).slice(2)}`;
  return text.slice(0, length);
}

/**
 * Sends `turns` user messages as an OpenAI client does: each request carries the whole history,
 * the previous answers included. Returns the messages of the last request and each turn's ids.
 */
async function converse(
  client: OpenAI,
  turns: string[],
  options: { system?: string; headers?: Record<string, string> } = {},
) {
  const messages: ChatCompletionMessageParam[] = options.system
    ? [{ role: 'system', content: options.system }]
    : [];
  const ids: number[] = [];
  const conversationIds: number[] = [];
  let last: ChatCompletionMessageParam[] = [];
  for (const text of turns) {
    messages.push({ role: 'user', content: text });
    last = [...messages];
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-5-mini', messages: last }, { headers: options.headers ?? {} })
      .withResponse();
    ids.push(idOf(response));
    conversationIds.push(Number(response.headers.get('x-askbase-conversation-id')));
    messages.push(data.choices[0]!.message);
  }
  return { ids, conversationIds, last, messages };
}

describe.each(BOTH_DATABASES)(
  'chat conversations on $driver',
  { timeout: 120_000 },
  ({ database }) => {
    const suite = useAskbaseSuite({ database });
    const client = () => clientOf(suite.askbase.url);

    const row = (id: number) => settledRow<Turn>(suite.askbase.url, id);
    /** Each row's size as JSON text: every column, uncompressed. */
    const rowSizes = async (ids: number[]) => {
      const result = await suite.askbase.database.db.execute(
        sql`select octet_length(row_to_json(q)::text) as size from question_answers q
             where id in (${sql.join(
               ids.map((id) => sql`${id}`),
               sql`, `,
             )}) order by id`,
      );
      return (result as { rows: { size: number | string }[] }).rows.map((r) => Number(r.size));
    };

    it('when a client sends 20 turns with the whole history each time, then they form one conversation stored in O(total text)', async () => {
      const texts = Array.from({ length: 20 }, (_, i) => filler(`Turn ${i + 1}:`, 1_000));

      const { ids, conversationIds, last } = await converse(client(), texts, {
        system: 'You are a patient assistant.',
      });

      const first = ids[0]!;
      expect(conversationIds).toEqual(ids.map(() => first));
      const rows = await Promise.all(ids.map(row));
      expect(rows.map((r) => r.conversation_id)).toEqual(ids.map(() => first));
      expect(rows.map((r) => r.parent_id)).toEqual([null, ...ids.slice(0, -1)]);
      expect(rows.map((r) => r.question)).toEqual(texts);
      expect(rows.map((r) => r.answer)).toEqual(texts.map((text) => `Answer to: ${text}`));

      const conversation = await expectOk<{ id: number; turns: Turn[] }>(
        await fetch(`${suite.askbase.url}/conversations/${first}`),
      );
      expect(conversation.id).toBe(first);
      expect(conversation.turns.map((turn) => turn.id)).toEqual(ids);
      const listed = await expectOk<Turn[]>(
        await fetch(`${suite.askbase.url}/qas?conversation=${first}&limit=100`),
      );
      expect(listed.map((turn) => turn.id).sort((a, b) => a - b)).toEqual(ids);

      // The 20th turn's exchange is the whole request as sent: 1 system + 19 × 2 + 1 messages.
      const exchange = await expectOk<Exchange>(
        await fetch(`${suite.askbase.url}/qa/${ids.at(-1)}/exchange`),
      );
      expect(last).toHaveLength(40);
      expect(exchange.request.messages).toEqual(last);
      expect(exchange.history_complete).toBe(true);
      expect(suite.fake.requests.at(-1)?.messages).toEqual(last);

      // Storage: each row holds its own turn, not the history. A turn's text is kept about 3.5
      // times (question and answer, the request's new message and the response, the search
      // index); the whole history in every row would add about 10 times the text at 20 turns,
      // and make the last row about 20 times the size of the second.
      const sizes = await rowSizes(ids);
      expect(sizes).toHaveLength(20);
      const textBytes = texts.reduce(
        (sum, text) => sum + 2 * Buffer.byteLength(text) + Buffer.byteLength('Answer to: '),
        0,
      );
      const stored = sizes.reduce((sum, size) => sum + size, 0);
      expect(stored, `stored ${stored} bytes for ${textBytes} bytes of text`).toBeLessThan(
        5 * textBytes,
      );
      expect(sizes.at(-1)!, `row sizes ${sizes.join(', ')}`).toBeLessThan(2 * sizes[1]!);
    });

    it('when a request names a conversation in X-Askbase-Conversation-Id, then it joins that conversation', async () => {
      const { ids } = await converse(client(), [unique('Start here ')]);

      const { response } = await client()
        .chat.completions.create(
          { model: 'gpt-5-mini', messages: [{ role: 'user', content: unique('Unrelated ') }] },
          { headers: { 'X-Askbase-Conversation-Id': String(ids[0]) } },
        )
        .withResponse();

      expect(Number(response.headers.get('x-askbase-conversation-id'))).toBe(ids[0]);
      expect((await row(idOf(response))).conversation_id).toBe(ids[0]);
    });

    it('when X-Askbase-Conversation-Id names no conversation, then 400 and the LLM is not called', async () => {
      const caught: unknown = await client()
        .chat.completions.create(
          { model: 'gpt-5-mini', messages: [{ role: 'user', content: unique('Lost ') }] },
          { headers: { 'X-Askbase-Conversation-Id': '999999999' } },
        )
        .then(
          () => undefined,
          (error: unknown) => error,
        );

      expect(caught).toBeInstanceOf(OpenAI.BadRequestError);
      expect(suite.fake.requests).toHaveLength(0);
    });

    it('when the same first message starts two conversations, then they stay apart', async () => {
      const opening = unique('Same opening ');

      const a = await converse(client(), [opening, unique('Then A ')]);
      const b = await converse(client(), [opening, unique('Then B ')]);

      expect(a.conversationIds[1]).toBe(a.ids[0]);
      expect(b.conversationIds[1]).toBe(b.ids[0]);
      expect(b.ids[0]).not.toBe(a.ids[0]);
    });

    it('when POST /ask follows up a chat turn, then the LLM gets the chat’s history and the ask joins the conversation', async () => {
      const opening = unique('Tell me about Lyon ');
      const { ids, messages } = await converse(client(), [opening]);
      const followUp = unique('And its river? ');

      const asked = await expectOk<Turn>(
        await ask(suite.askbase.url, { question: followUp, follow_up_to: ids[0] }),
      );

      const sent = suite.fake.requests.at(-1)?.messages ?? [];
      expect(sent.map((message) => [message.role, messageText(message.content)])).toEqual([
        ...messages.map((message) => [message.role, messageText(message.content)]),
        ['user', followUp],
      ]);
      expect(asked).toMatchObject({
        kind: 'ask',
        question: followUp,
        conversation_id: ids[0],
        parent_id: ids[0],
      });
      const conversation = await expectOk<{ turns: Turn[] }>(
        await fetch(`${suite.askbase.url}/conversations/${ids[0]}`),
      );
      expect(conversation.turns.map((turn) => turn.id)).toEqual([ids[0], asked.id]);
    });

    it('when a conversation does not exist, then GET /conversations/{id} is 404', async () => {
      const response = await fetch(`${suite.askbase.url}/conversations/999999999`);

      expect(response.status).toBe(404);
    });
  },
);

describe('chat conversations across API keys', () => {
  const ALICE = 'key-a-123456789012';
  const BOB = 'key-b-123456789012';
  const suite = useAskbaseSuite({ env: { API_KEYS: `alice:${ALICE},bob:${BOB}` } });
  const asAlice = { authorization: `Bearer ${ALICE}` };

  it('when another key sends the same history, then it does not join the first key’s conversation', async () => {
    const alice = clientOf(suite.askbase.url, ALICE);
    const bob = clientOf(suite.askbase.url, BOB);
    const opening = unique('Shared opening ');
    const { ids, messages } = await converse(alice, [opening]);
    const next = [...messages, { role: 'user' as const, content: unique('Next ') }];

    const bobs = await bob.chat.completions
      .create({ model: 'gpt-5-mini', messages: next })
      .withResponse();
    const alices = await alice.chat.completions
      .create({ model: 'gpt-5-mini', messages: next })
      .withResponse();

    const read = async (id: number) =>
      settledRow<Turn & { key_name: string }>(suite.askbase.url, id, asAlice);
    const bobsRow = await read(idOf(bobs.response));
    const alicesRow = await read(idOf(alices.response));
    expect(bobsRow.key_name).toBe('bob');
    expect(bobsRow.conversation_id).not.toBe(ids[0]);
    expect(bobsRow.parent_id).toBeNull();
    expect(alicesRow).toMatchObject({
      key_name: 'alice',
      conversation_id: ids[0],
      parent_id: ids[0],
    });
  });

  it('when another key names the first key’s conversation, then it is refused', async () => {
    const { ids } = await converse(clientOf(suite.askbase.url, ALICE), [unique('Mine ')]);

    const caught: unknown = await clientOf(suite.askbase.url, BOB)
      .chat.completions.create(
        { model: 'gpt-5-mini', messages: [{ role: 'user', content: unique('Yours? ') }] },
        { headers: { 'X-Askbase-Conversation-Id': String(ids[0]) } },
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(caught).toBeInstanceOf(APIError);
    expect((caught as APIError).status).toBe(400);
  });
});
