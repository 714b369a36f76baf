import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/index.js';
import { describe, expect, it } from 'vitest';
import { type QaJson, settledRow } from '../helpers/http.js';
import { unique } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';

describe('the answer cache on /v1/chat/completions', { timeout: 120_000 }, () => {
  const suite = useAskbaseSuite({ env: { CACHE_TTL_SECONDS: '3600' } });
  const client = () =>
    new OpenAI({ baseURL: `${suite.askbase.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const row = (response: Response) =>
    settledRow<QaJson>(suite.askbase.url, Number(response.headers.get('x-askbase-id')));

  it('when the same request comes again, then it is answered from the store: one LLM call, a row of its own at no cost', async () => {
    const messages = [{ role: 'user' as const, content: unique('cache me ') }];
    suite.fake.setBehavior({ answer: () => 'Answered once.' });

    const first = await client()
      .chat.completions.create({ model: 'gpt-5-mini', messages })
      .withResponse();
    const second = await client()
      .chat.completions.create({ model: 'gpt-5-mini', messages, user: 'someone-else' })
      .withResponse();

    expect(suite.fake.requests).toHaveLength(1);
    expect(second.data.choices[0]?.message.content).toBe('Answered once.');
    const [original, copy] = [await row(first.response), await row(second.response)];
    expect(copy.id).not.toBe(original.id);
    expect(copy).toMatchObject({
      kind: 'chat',
      cached_from: original.id,
      cost_usd: 0,
      answer: 'Answered once.',
    });
  });

  it('when a cached answer is asked for as a stream, then the stored completion comes as chunks', async () => {
    const messages = [{ role: 'user' as const, content: unique('stream the cache ') }];
    suite.fake.setBehavior({ answer: () => 'Streamed from the store.' });
    await client().chat.completions.create({ model: 'gpt-5-mini', messages });

    const stream = await client().chat.completions.create({
      model: 'gpt-5-mini',
      messages,
      stream: true,
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(suite.fake.requests).toHaveLength(1);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'Streamed from the store.',
    );
  });

  it('when a request says X-Askbase-Cache: false, or differs in what it asks, then the LLM is asked', async () => {
    const messages = [{ role: 'user' as const, content: unique('fresh please ') }];
    await client().chat.completions.create({ model: 'gpt-5-mini', messages });

    await client().chat.completions.create(
      { model: 'gpt-5-mini', messages },
      { headers: { 'X-Askbase-Cache': 'false' } },
    );
    await client().chat.completions.create({ model: 'gpt-5-mini', messages, temperature: 0.2 });

    expect(suite.fake.requests).toHaveLength(3);
  });
});
