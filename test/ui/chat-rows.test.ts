import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { launchChromium } from '../helpers/browser.js';
import { unique } from '../helpers/each-database.js';
import { settledRow } from '../helpers/http.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);
const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Waits for a condition in the page; the bound only guards against a hang. */
const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 20_000 });

interface Message {
  role: string;
  content: string;
}

describe('chat rows (POST /v1/chat/completions) on the web page', () => {
  const suite = useAskbaseSuite();
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every API request the page made, as method and path. */
  let requests: string[];

  beforeAll(async () => {
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
  });

  async function open(path = '/', options: Parameters<Browser['newContext']>[0] = {}) {
    context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
    page = await context.newPage();
    requests = [];
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!url.pathname.startsWith('/assets/') && url.pathname !== '/') {
        requests.push(`${request.method()} ${url.pathname}${url.search}`);
      }
    });
    await page.goto(`${suite.askbase.url}${path}`);
    return { errors };
  }

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

  /** Screenshots for the docs, in the light and the dark theme. */
  const shoot = async (name: string) => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.screenshot({ path: new URL(`${name}-${colorScheme}.png`, SCREENSHOTS).pathname });
    }
    await page.emulateMedia({ colorScheme: null });
  };

  const historyItem = (text: string) => page.getByRole('listitem').filter({ hasText: text });
  const listedIds = () =>
    page
      .getByRole('listitem')
      .evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.id)));

  it('when a chat exchange is stored, then the history shows it with a "chat" badge and an ask without one', async () => {
    const word = unique('badgeword');
    await ask(suite.askbase.url, { question: `${word} asked` });
    const { id } = await chat([{ role: 'user', content: `${word} chatted` }]);
    const { errors } = await open(`/?q=${word}`);
    await eventually(() => page.getByRole('listitem').count()).toBe(2);

    const chatItem = historyItem(`${word} chatted`);
    expect(await chatItem.getAttribute('data-id')).toBe(String(id));
    expect(await chatItem.locator('.badge-chat').textContent()).toBe('chat');
    expect(await chatItem.locator('.item-meta').textContent()).toMatch(/^answered chat #\d+ · /);
    expect(await chatItem.textContent()).toContain(`Answer to: ${word} chatted`);
    expect(await historyItem(`${word} asked`).locator('.badge-chat').count()).toBe(0);
    expect(errors).toEqual([]);
    await shoot('chat-rows');
  });

  it('when a later turn of a conversation is listed, then it says which conversation it is a turn of', async () => {
    const word = unique('hintword');
    const { one, two } = await twoTurns(`${word} first`, `${word} second`);
    await open(`/?q=${word}`);
    await eventually(() => page.getByRole('listitem').count()).toBe(2);

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
    await eventually(() => page.getByRole('listitem').count()).toBe(4);
    requests.length = 0;

    await page.getByRole('combobox', { name: 'Kind' }).selectOption({ label: 'Chat' });

    await eventually(listedIds).toEqual(chats.map((c) => c.id).reverse());
    expect(new URL(page.url()).searchParams.get('kind')).toBe('chat');
    expect(requests.filter((r) => r.startsWith('GET /qas')).at(-1)).toContain('kind=chat');

    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export NDJSON' }).click();
    const download = await downloading;
    expect(requests.find((r) => r.startsWith('GET /qas/export'))).toContain('kind=chat');
    const exported = (await readFile(await download.path(), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; kind: string });
    expect(exported.map(({ id, kind }) => ({ id, kind }))).toEqual(
      chats.map(({ id }) => ({ id, kind: 'chat' })).reverse(),
    );

    await page.reload();
    await eventually(() => page.getByRole('listitem').count()).toBe(2);
    expect(await page.getByRole('combobox', { name: 'Kind' }).inputValue()).toBe('chat');

    await page.getByRole('combobox', { name: 'Kind' }).selectOption({ label: 'Asks' });
    await eventually(listedIds).toEqual([...asks].reverse());
    expect(await page.locator('.badge-chat').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('kind')).toBe('ask');

    await page.getByRole('combobox', { name: 'Kind' }).selectOption({ label: 'All' });
    await eventually(() => page.getByRole('listitem').count()).toBe(4);
    expect(new URL(page.url()).searchParams.has('kind')).toBe(false);
  });

  it("when a chat row is opened, then the detail shows its kind, finish reason and token details, and the keyboard shows its conversation's turns in order", async () => {
    suite.fake.setBehavior({
      finishReason: 'length',
      usageDetails: { cachedTokens: 3, reasoningTokens: 5 },
    });
    const word = unique('detailword');
    const { one, two } = await twoTurns(`${word} first`, `${word} second`);
    await open(`/?id=${two.id}`);

    const dialog = page.getByRole('dialog', { name: `Question #${two.id}` });
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
    await page.keyboard.press('Enter');

    const turns = dialog.getByRole('list', { name: `Turns of conversation #${one.id}` });
    await eventually(() => turns.getByRole('listitem').count()).toBe(2);
    expect(requests).toContain(`GET /conversations/${one.id}`);
    expect(await dialog.getByRole('button', { name: `Hide conversation #${one.id}` }).count()).toBe(
      1,
    );
    const texts = await turns.getByRole('listitem').allTextContents();
    expect(texts[0]).toBe(`#${one.id} ${word} first → Answer to: ${word} first`);
    expect(texts[1]).toBe(`#${two.id} (this one) ${word} second → Answer to: ${word} second`);
    expect(await turns.getByRole('listitem').nth(1).getAttribute('aria-current')).toBe('true');
    await shoot('conversation');

    // The other turn opens with the keyboard, in the same dialog.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(`${word} first`);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: `Question #${one.id}` }).waitFor();
    expect(new URL(page.url()).searchParams.get('id')).toBe(String(one.id));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail-heading');
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

    const dialog = page.getByRole('dialog', { name: `Question #${id}` });
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
      await page.getByRole('listitem').first().waitFor();
      const dialog = page.getByRole('dialog', { name: `Question #${two.id}` });
      await dialog.getByRole('button', { name: `Show conversation #${one.id}` }).click();
      await dialog.getByRole('list', { name: `Turns of conversation #${one.id}` }).waitFor();

      await page.addScriptTag({ content: await axeSource });
      const violations = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
            };
          }
        ).axe;
        const result = await axe.run();
        return result.violations.map(({ id, impact, nodes }) => ({
          id,
          impact,
          nodes: nodes.length,
        }));
      });

      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual(
        [],
      );
    });
  }
});
