import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/** Where Chromium or Chrome is usually installed; CHROMIUM_PATH comes first. */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

export function findChromium(): string {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH=${chosen} does not exist`);
    return chosen;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      'No Chromium found for the browser tests. Install one (Debian: apt-get install -y chromium) ' +
        'or set CHROMIUM_PATH to its executable.',
    );
  }
  return found;
}

/**
 * A real Chromium, headless. Playwright's own browser download is never used, so the path is
 * always given; the sandbox stays off (Playwright's default), which running as root requires.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), chromiumSandbox: false });
}

/** Waits for a condition in the page; the bound only guards against a hang. */
export const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 20_000 });

const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);
const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type ContextOptions = NonNullable<Parameters<Browser['newContext']>[0]>;

export interface BrowserSuite {
  /** The page the test opened last. */
  readonly page: Page;
  /** Every API request that page made, as method and path (not its assets, nor the page). */
  readonly requests: string[];
  /**
   * Opens `url` in a context of its own (1100×900 unless `options` say otherwise), closed
   * after the test. Returns the page's errors, kept as they happen: the page's own code must
   * never throw or break the content security policy.
   */
  open: (url: string, options?: ContextOptions) => Promise<{ errors: string[] }>;
  /** Screenshots of the page for the docs, in the light and the dark theme. */
  shoot: (name: string) => Promise<void>;
  /** What axe-core finds wrong in the page (its script is added as the test's own). */
  accessibilityViolations: () => Promise<{ id: string; impact: string; nodes: number }[]>;
}

/** A real Chromium for the suite (launchChromium), and a fresh context for each page a test opens. */
export function useBrowser(): BrowserSuite {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let requests: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await context?.close();
  });
  const current = () => {
    if (!page) throw new Error('no page is open: call open() first');
    return page;
  };
  return {
    get page() {
      return current();
    },
    get requests() {
      return requests;
    },
    async open(url, options = {}) {
      if (!browser) throw new Error('the browser is launched by the suite’s beforeAll');
      context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
      page = await context.newPage();
      requests = [];
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('request', (request) => {
        const { pathname, search } = new URL(request.url());
        if (!pathname.startsWith('/assets/') && pathname !== '/') {
          requests.push(`${request.method()} ${pathname}${search}`);
        }
      });
      await page.goto(url);
      return { errors };
    },
    async shoot(name) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      for (const colorScheme of ['light', 'dark'] as const) {
        await current().emulateMedia({ colorScheme });
        await current().screenshot({
          path: new URL(`${name}-${colorScheme}.png`, SCREENSHOTS).pathname,
        });
      }
      await current().emulateMedia({ colorScheme: null });
    },
    async accessibilityViolations() {
      await current().addScriptTag({ content: await axeSource });
      return current().evaluate(async () => {
        const axe = (
          globalThis as unknown as {
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
    },
  };
}
