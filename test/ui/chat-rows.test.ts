import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { eventually, useBrowser } from '../helpers/browser.js';
import { unique } from '../helpers/each-database.js';
import { settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

interface Message {
  role: string;
  content: string;
}

describe('chat rows (POST /v1/chat/completions) on the web page', () => {
  const suite = useAskbaseSuite();
  const ui = useBrowser();
  const open = (path = '/', options?: Parameters<typeof ui.open>[1]) =>
    ui.open(`${suite.askbase.url}${path}`, options);

  /** One Chat Completions exchange, as an OpenAI client sends it; the stored row's id and answer. */
  async function chat(messages: Message[]) {
    const response = await fetch(`${suite.askbase.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5-mini', messages }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { message: Message }[] };
    // /v1 answers before it records the answer: the page is opened once the row has it.
    await settledRow(suite.askbase.url, Number(response.headers.get('x-askbase-id')));
    return {
      id: Number(response.headers.get('x-askbase-id')),
      conversationId: Number(response.headers.get('x-askbase-conversation-id')),
      message: { role: 'assistant', content: body.choices[0]!.message.content },
    };
  }

  /** A conversation of two turns, each request carrying the whole history. */
  async function twoTurns(first: string, second: string) {
    const one = await chat([{ role: 'user', content: first }]);
    const two = await chat([
      { role: 'user', content: first },
      one.message,
      { role: 'user', content: second },
    ]);
    return { one, two };
  }

  const askedId = async (question: string) =>
    ((await (await ask(suite.askbase.url, { question })).json()) as { id: number }).id;

  const historyItem = (text: string) => ui.page.getByRole('listitem').filter({ hasText: text });
  const listedIds = () =>
    ui.page
      .getByRole('listitem')
      .evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.id)));

  it('when a chat exchange is stored, then the history shows it with a "chat" badge and an ask without one', async () => {
    const word = unique('badgeword');
    await ask(suite.askbase.url, { question: `${word} asked` });
    const { id } = await chat([{ role: 'user', content: `${word} chatted` }]);
    const { errors } = await open(`/?q=${word}`);
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);

    const chatItem = historyItem(`${word} chatted`);
    expect(await chatItem.getAttribute('data-id')).toBe(String(id));
    expect(await chatItem.locator('.badge-chat').textContent()).toBe('chat');
    expect(await chatItem.locator('.item-meta').textContent()).toMatch(/^answered chat #\d+ · /);
    expect(await chatItem.textContent()).toContain(`Answer to: ${word} chatted`);
    expect(await historyItem(`${word} asked`).locator('.badge-chat').count()).toBe(0);
    expect(errors).toEqual([]);
    await ui.shoot('chat-rows');
  });

  it('when a later turn of a conversation is listed, then it says which conversation it is a turn of', async () => {
    const word = unique('hintword');
    const { one, two } = await twoTurns(`${word} first`, `${word} second`);
    await open(`/?q=${word}`);
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);

    expect(await historyItem(`${word} second`).locator('.item-meta').textContent()).toContain(
      `turn of conversation #${one.id}`,
    );
    expect(two.conversationId).toBe(one.id);
    expect(await historyItem(`${word} first`).locator('.item-meta').textContent()).not.toContain(
      'turn of conversation',
    );
  });

  it('when Kind is set to Chat, then only chat rows are listed, GET /qas and the export are asked with kind=chat, and the URL keeps it over a reload', async () => {
    const word = unique('kindword');
    const asks = [await askedId(`${word} ask one`)];
    const chats = [
      await chat([{ role: 'user', content: `${word} chat one` }]),
      await chat([{ role: 'user', content: `${word} chat two` }]),
    ];
    asks.push(await askedId(`${word} ask two`));
    await open(`/?q=${word}`);
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(4);
    ui.requests.length = 0;

    await ui.page.getByRole('combobox', { name: 'Kind' }).selectOption({ label: 'Chat' });

    await eventually(listedIds).toEqual(chats.map((c) => c.id).reverse());
    expect(new URL(ui.page.url()).searchParams.get('kind')).toBe('chat');
    expect(ui.requests.filter((r) => r.startsWith('GET /qas')).at(-1)).toContain('kind=chat');

    const downloading = ui.page.waitForEvent('download');
    await ui.page.getByRole('button', { name: 'Export NDJSON' }).click();
    const download = await downloading;
    expect(ui.requests.find((r) => r.startsWith('GET /qas/export'))).toContain('kind=chat');
    const exported = (await readFile(await download.path(), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; kind: string });
    expect(exported.map(({ id, kind }) => ({ id, kind }))).toEqual(
      chats.map(({ id }) => ({ id, kind: 'chat' })).reverse(),
    );

    await ui.page.reload();
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);
    expect(await ui.page.getByRole('combobox', { name: 'Kind' }).inputValue()).toBe('chat');

    await ui.page.getByRole('combobox', { name: 'Kind' }).selectOption({ label: 'Asks' });
    await eventually(listedIds).toEqual([...asks].reverse());
    expect(await ui.page.locator('.badge-chat').count()).toBe(0);
    expect(new URL(ui.page.url()).searchParams.get('kind')).toBe('ask');

    await ui.page.getByRole('combobox', { name: 'Kind' }).selectOption({ label: 'All' });
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(4);
    expect(new URL(ui.page.url()).searchParams.has('kind')).toBe(false);
  });

  it("when a chat row is opened, then the detail shows its kind, finish reason and token details, and the keyboard shows its conversation's turns in order", async () => {
    suite.fake.setBehavior({
      finishReason: 'length',
      usageDetails: { cachedTokens: 3, reasoningTokens: 5 },
    });
    const word = unique('detailword');
    const { one, two } = await twoTurns(`${word} first`, `${word} second`);
    await open(`/?id=${two.id}`);

    const dialog = ui.page.getByRole('dialog', { name: `Question #${two.id}` });
    await dialog.waitFor();
    const facts = await dialog
      .locator('.facts dt')
      .evaluateAll((dts) =>
        Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
      );
    expect(facts).toMatchObject({
      Kind: 'chat (POST /v1/chat/completions)',
      'Finish reason': 'length',
      'Cached prompt tokens': '3',
      'Reasoning tokens': '5',
      Conversation: `#${one.id}, after #${one.id}`,
    });
    expect(facts).not.toHaveProperty('Time to first token');

    const show = dialog.getByRole('button', { name: `Show conversation #${one.id}` });
    expect(await show.getAttribute('aria-expanded')).toBe('false');
    await show.focus();
    await ui.page.keyboard.press('Enter');

    const turns = dialog.getByRole('list', { name: `Turns of conversation #${one.id}` });
    await eventually(() => turns.getByRole('listitem').count()).toBe(2);
    expect(ui.requests).toContain(`GET /conversations/${one.id}`);
    expect(await dialog.getByRole('button', { name: `Hide conversation #${one.id}` }).count()).toBe(
      1,
    );
    const texts = await turns.getByRole('listitem').allTextContents();
    expect(texts[0]).toBe(`#${one.id} ${word} first → Answer to: ${word} first`);
    expect(texts[1]).toBe(`#${two.id} (this one) ${word} second → Answer to: ${word} second`);
    expect(await turns.getByRole('listitem').nth(1).getAttribute('aria-current')).toBe('true');
    await ui.shoot('conversation');

    // The other turn opens with the keyboard, in the same dialog.
    await ui.page.keyboard.press('Tab');
    expect(await ui.page.evaluate(() => document.activeElement?.textContent)).toBe(`${word} first`);
    await ui.page.keyboard.press('Enter');
    await ui.page.getByRole('dialog', { name: `Question #${one.id}` }).waitFor();
    expect(new URL(ui.page.url()).searchParams.get('id')).toBe(String(one.id));
    expect(await ui.page.evaluate(() => document.activeElement?.id)).toBe('detail-heading');
  });

  it('when a streamed chat row is opened, then the detail shows its time to first token', async () => {
    const question = unique('Streamed chat ');
    const response = await fetch(`${suite.askbase.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-5-mini',
        stream: true,
        messages: [{ role: 'user', content: question }],
      }),
    });
    const id = Number(response.headers.get('x-askbase-id'));
    expect(await response.text()).toContain('data: [DONE]');
    await settledRow(suite.askbase.url, id);
    await open(`/?id=${id}`);

    const dialog = ui.page.getByRole('dialog', { name: `Question #${id}` });
    await dialog.waitFor();
    const ttft = dialog.locator('.facts dt', { hasText: 'Time to first token' });
    expect(await ttft.locator('xpath=following-sibling::dd[1]').textContent()).toMatch(
      /^\d+ ms$|^\d+\.\d s$/,
    );
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`when a chat row's detail and conversation are open in the ${colorScheme} theme, then axe-core finds no serious or critical violations`, async () => {
      const word = unique('axeword');
      const { one, two } = await twoTurns(`${word} first`, `${word} second`);
      await open(`/?q=${word}&kind=chat&id=${two.id}`, { colorScheme, bypassCSP: true });
      await ui.page.getByRole('listitem').first().waitFor();
      const dialog = ui.page.getByRole('dialog', { name: `Question #${two.id}` });
      await dialog.getByRole('button', { name: `Show conversation #${one.id}` }).click();
      await dialog.getByRole('list', { name: `Turns of conversation #${one.id}` }).waitFor();

      const violations = await ui.accessibilityViolations();

      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual(
        [],
      );
    });
  }
});
