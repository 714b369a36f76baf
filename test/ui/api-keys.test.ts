import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { eventually, useBrowser } from '../helpers/browser.js';
import { useAskbaseSuite } from '../helpers/suite.js';

const KEY = 'web-page-test-key';

describe('the web page when API_KEYS is set', () => {
  const suite = useAskbaseSuite({ env: { API_KEYS: KEY } });
  const ui = useBrowser();

  it('when the page opens, then it asks for a key once; a wrong key gets a clear message, the right one shows the history and is sent with every request', async () => {
    await ask(suite.askbase.url, { question: 'Behind a key' }, { authorization: `Bearer ${KEY}` });
    // Playwright's own default viewport.
    await ui.open(`${suite.askbase.url}/`, { viewport: { width: 1280, height: 720 } });
    const { page } = ui;
    const prompt = page.getByRole('dialog', { name: 'API key' });
    await prompt.waitFor();

    await prompt.getByLabel('API key').fill('not-the-key');
    await prompt.getByRole('button', { name: 'Use key' }).click();
    await eventually(() => prompt.getByRole('alert').textContent()).toContain('not accepted');

    await prompt.getByLabel('API key').fill(KEY);
    await prompt.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Behind a key' }).waitFor();
    expect(await prompt.isVisible()).toBe(false);

    // Asking uses the same key, and a reload in the same tab does not ask again.
    await page.getByRole('textbox', { name: 'Question' }).fill('Asked with the key');
    await page.getByRole('button', { name: 'Ask' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Asked with the key' }).waitFor();
    expect(suite.fake.requests.at(-1)?.messages.at(-1)?.content).toBe('Asked with the key');
    await page.reload();
    await page.getByRole('listitem').filter({ hasText: 'Behind a key' }).waitFor();
    expect(await prompt.isVisible()).toBe(false);
  });
});
