import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { eventually, useBrowser } from '../helpers/browser.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { unique } from '../helpers/each-database.js';

describe('the web page in a real browser', () => {
  const suite = useAskbaseSuite();
  const ui = useBrowser();
  const open = (path = '/', options?: Parameters<typeof ui.open>[1]) =>
    ui.open(`${suite.askbase.url}${path}`, options);

  const historyItem = (text: string) => ui.page.getByRole('listitem').filter({ hasText: text });

  it('when a question is asked, then the answer streams into the live region, is stored with its id, model and tokens, and heads the history', async () => {
    suite.fake.setBehavior({ chunkDelayMs: 5 });
    const question = unique('Streamed question ');
    const { errors } = await open();

    await ui.page.getByRole('textbox', { name: 'Question' }).fill(question);
    await ui.page.getByRole('button', { name: 'Ask' }).click();

    const live = ui.page.locator('[aria-live="polite"]');
    await eventually(() => live.textContent()).toMatch(/Stored as #\d+ · gpt-5-mini · \d+ \(/);
    expect(await live.textContent()).toContain(`Answer to: ${question}`);
    expect(suite.fake.requests.at(-1)?.stream, 'the page asked for a stream').toBe(true);
    expect(await historyItem(question).count()).toBe(1);
    expect(await ui.page.getByRole('listitem').first().textContent()).toContain(question);
    const id = Number(/Stored as #(\d+)/.exec((await live.textContent()) ?? '')?.[1]);
    const [row] = await suite.db.query(
      'select status, answer from question_answers where id = $1',
      [id],
    );
    expect(row).toEqual({ status: 'answered', answer: `Answer to: ${question}` });
    expect(errors).toEqual([]);
    await ui.shoot('ask');
  });

  it('when the answer is Markdown with raw HTML and script links, then it is rendered as Markdown and none of the HTML or scripts reach the page', async () => {
    const hostile = [
      '# Title',
      'Some **bold** and `code` and a [safe link](https://example.com/a).',
      '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script>',
      '[click me](javascript:window.pwned=3)',
      '```\n<b>not bold</b>\n```',
    ].join('\n\n');
    suite.fake.setBehavior({ answer: () => hostile });
    await open();

    await ui.page.getByRole('textbox', { name: 'Question' }).fill(unique('Markdown please '));
    await ui.page.getByRole('button', { name: 'Ask' }).click();
    const live = ui.page.locator('[aria-live="polite"]');
    await eventually(() => live.textContent()).toMatch(/Stored as #\d+ ·/);

    const answer = live.locator('.answer');
    expect(await answer.locator('h3').textContent()).toBe('Title');
    expect(await answer.locator('strong').textContent()).toBe('bold');
    expect(await answer.locator('pre code').textContent()).toBe('<b>not bold</b>');
    expect(
      await answer.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))),
    ).toEqual(['https://example.com/a']);
    expect(await answer.locator('img, script, b, [onerror]').count()).toBe(0);
    expect(await answer.textContent()).toContain('<script>window.pwned=2</script>');
    expect(
      await ui.page.evaluate(() => (window as unknown as { pwned?: number }).pwned),
    ).toBeUndefined();
  });

  it('when Ctrl+Enter is pressed in the question field, then the question is sent with the keyboard only', async () => {
    const question = unique('Keyboard question ');
    await open();

    await ui.page.keyboard.press('Tab');
    expect(await ui.page.evaluate(() => document.activeElement?.id)).toBe('question');
    await ui.page.keyboard.type(question);
    await ui.page.keyboard.press('Control+Enter');

    await eventually(() => historyItem(question).count()).toBe(1);
    expect(await ui.page.locator('[aria-live="polite"]').textContent()).toContain(
      `Answer to: ${question}`,
    );
  });

  it('when a word is searched, then only matching questions are listed, the search is in the URL, and a reload shows the same', async () => {
    const word = unique('zebra');
    for (const question of [
      `Where do ${word} live?`,
      `What do ${word} eat?`,
      'Unrelated question',
    ]) {
      await ask(suite.askbase.url, { question });
    }
    await open();
    await ui.page.getByRole('listitem').first().waitFor();
    ui.requests.length = 0;

    await ui.page.getByRole('searchbox', { name: 'Search' }).pressSequentially(word);

    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);
    expect(await historyItem('Unrelated question').count()).toBe(0);
    expect(new URL(ui.page.url()).searchParams.get('q')).toBe(word);
    // The search waits for typing to pause: not one request per keystroke.
    const searches = ui.requests.filter((r) => r.startsWith('GET /qas'));
    expect(searches.length).toBeGreaterThanOrEqual(1);
    expect(searches.length).toBeLessThan(word.length / 2);
    expect(searches.at(-1)).toContain(`q=${word}`);
    await ui.shoot('search');

    await ui.page.reload();
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);
    expect(await ui.page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe(word);
  });

  it('when a status filter is chosen, then the list and the URL follow it', async () => {
    const word = unique('filterword');
    suite.fake.setBehavior((request) =>
      request.messages.at(-1)?.content.includes('fails') ? { fault: 'bad_request' } : {},
    );
    await ask(suite.askbase.url, { question: `${word} answers` });
    await ask(suite.askbase.url, { question: `${word} fails` });
    await open(`/?q=${word}`);
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);

    await ui.page.getByRole('combobox', { name: 'Status' }).selectOption('failed');

    await eventually(() => ui.page.getByRole('listitem').count()).toBe(1);
    expect(await ui.page.getByRole('listitem').textContent()).toContain(`${word} fails`);
    expect(new URL(ui.page.url()).searchParams.get('status')).toBe('failed');
  });

  it('when a stored question is opened, then everything stored about it is shown, and its URL opens it again', async () => {
    const question = unique('Open me ');
    const response = await ask(suite.askbase.url, { question });
    const { id } = (await response.json()) as { id: number };
    await open();

    await historyItem(question).getByRole('link', { name: question }).click();

    const dialog = ui.page.getByRole('dialog', { name: `Question #${id}` });
    await dialog.waitFor();
    const text = await dialog.textContent();
    for (const expected of [
      question,
      `Answer to: ${question}`,
      'answered',
      'gpt-5-mini',
      'Tokens',
    ]) {
      expect(text).toContain(expected);
    }
    expect(new URL(ui.page.url()).searchParams.get('id')).toBe(String(id));
    await ui.shoot('detail');

    await ui.page.reload();
    await ui.page.getByRole('dialog', { name: `Question #${id}` }).waitFor();
    await ui.page.keyboard.press('Escape');
    await eventually(() => new URL(ui.page.url()).searchParams.get('id')).toBeNull();
  });

  it('when the LLM fails, then the page shows the error with Retry, and Retry answers the same question under the same id', async () => {
    suite.fake.setBehavior({ fault: 'server_error' });
    const question = unique('Fails first ');
    await open();

    await ui.page.getByRole('textbox', { name: 'Question' }).fill(question);
    await ui.page.getByRole('button', { name: 'Ask' }).click();
    const live = ui.page.locator('[aria-live="polite"]');
    await eventually(() => live.getByRole('alert').count()).toBe(1);
    const item = historyItem(question);
    await eventually(() => item.getAttribute('data-status')).toBe('failed');
    const id = Number(await item.getAttribute('data-id'));

    suite.fake.setBehavior({ answer: () => 'Second time lucky.' });
    await item.getByRole('button', { name: 'Retry' }).click();

    await eventually(() => historyItem(question).getAttribute('data-status')).toBe('answered');
    expect(await historyItem(question).getAttribute('data-id')).toBe(String(id));
    expect(await historyItem(question).textContent()).toContain('Second time lucky.');
    const [row] = await suite.db.query(
      'select status, answer from question_answers where id = $1',
      [id],
    );
    expect(row).toEqual({ status: 'answered', answer: 'Second time lucky.' });
  });

  it('when Delete is confirmed, then the question is gone from the page and the database; when it is cancelled, nothing changes', async () => {
    const kept = unique('Keep me ');
    const doomed = unique('Delete me ');
    await ask(suite.askbase.url, { question: kept });
    const { id } = (await (await ask(suite.askbase.url, { question: doomed })).json()) as {
      id: number;
    };
    await open();
    await historyItem(doomed).waitFor();

    ui.page.once('dialog', (dialog) => void dialog.dismiss());
    await historyItem(kept).getByRole('button', { name: 'Delete' }).click();
    ui.page.once('dialog', (dialog) => void dialog.accept());
    await historyItem(doomed).getByRole('button', { name: 'Delete' }).click();

    await eventually(() => historyItem(doomed).count()).toBe(0);
    expect(await historyItem(kept).count()).toBe(1);
    expect((await fetch(`${suite.askbase.url}/qa/${id}`)).status).toBe(404);
  });

  it('when Export CSV is pressed on a search, then the browser downloads every match as CSV', async () => {
    const word = unique('exportword');
    for (const n of [1, 2]) await ask(suite.askbase.url, { question: `${word} number ${n}` });
    await ask(suite.askbase.url, { question: 'Not in the export' });
    await open(`/?q=${word}`);
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(2);

    const downloading = ui.page.waitForEvent('download');
    await ui.page.getByRole('button', { name: 'Export CSV' }).click();
    const download = await downloading;

    expect(download.suggestedFilename()).toMatch(/^askbase-.+\.csv$/);
    const text = await readFile(await download.path(), 'utf8');
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,status,question,answer,/);
    expect(lines.slice(1).map((line) => line.split(',')[2])).toEqual([
      `${word} number 2`,
      `${word} number 1`,
    ]);
  });

  it('when Copy is pressed, then the answer is on the clipboard', async () => {
    const question = unique('Copy me ');
    await ask(suite.askbase.url, { question });
    await open('/', { permissions: ['clipboard-read', 'clipboard-write'] });

    await historyItem(question).getByRole('button', { name: 'Copy' }).click();

    await eventually(() => ui.page.evaluate(() => navigator.clipboard.readText())).toBe(
      `Answer to: ${question}`,
    );
  });

  it('when the history is scrolled past the first page, then the next pages load by keyset cursor, one request each', async () => {
    const word = unique('scrollword');
    await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        ask(suite.askbase.url, { question: `${word} number ${i}` }),
      ),
    );
    await open(`/?q=${word}`);
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(30);
    await ui.shoot('history');

    await ui.page.getByRole('listitem').last().scrollIntoViewIfNeeded();
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(60);
    await ui.page.getByRole('listitem').last().scrollIntoViewIfNeeded();
    await eventually(() => ui.page.getByRole('listitem').count()).toBe(70);

    const lists = ui.requests.filter((r) => r.startsWith('GET /qas'));
    expect(lists).toHaveLength(3);
    expect(lists.slice(1).every((r) => r.includes('cursor='))).toBe(true);
    expect(lists.some((r) => /[?&]offset=/.test(r))).toBe(false);
    const ids = await ui.page
      .getByRole('listitem')
      .evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.id)));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(await ui.page.getByRole('button', { name: 'Load more' }).isHidden()).toBe(true);
  });

  it('when the screen is phone-sized, then nothing overflows sideways and asking works', async () => {
    const question = unique('Phone question ');
    await open('/', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

    expect(
      await ui.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    ).toBe(true);
    await ui.page.getByRole('textbox', { name: 'Question' }).fill(question);
    await ui.page.getByRole('button', { name: 'Ask' }).click();
    await eventually(() => historyItem(question).count()).toBe(1);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`when the page is checked with axe-core in the ${colorScheme} theme, then it has no serious or critical accessibility violations`, async () => {
      await ask(suite.askbase.url, { question: unique('Accessible question ') });
      // axe is injected as a script of the test's own, which the page's policy would refuse.
      await open('/', { colorScheme, bypassCSP: true });
      await ui.page.getByRole('listitem').first().waitFor();

      const violations = await ui.accessibilityViolations();

      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual(
        [],
      );
    });
  }
});
