import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useAskbaseSuite } from '../helpers/suite.js';
import { allowed, expectError } from '../helpers/http.js';

/** GET with the headers given, and no automatic decompression, so encodings can be checked. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>(
    (resolve, reject) => {
      request(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            body: Buffer.concat(chunks),
          }),
        );
      })
        .on('error', reject)
        .end();
    },
  );
}

const assetsOf = (html: string) =>
  [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

describe('the web page, as HTTP', () => {
  // Each test starts askbase as the page's setting it tries needs.
  const suite = useAskbaseSuite({ llm: 'none', askbase: false });
  const start = suite.start;

  it('when / is opened, then the page comes with a strict content security policy, no inline code, and is revalidated each visit', async () => {
    const { url } = await start();

    const page = await get(`${url}/`);

    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    const policy = page.headers['content-security-policy'] ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
    const html = page.body.toString('utf8');
    // Every script is a file of its own and nothing is styled inline, so the policy holds.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).not.toMatch(/https?:\/\//);

    const again = await get(`${url}/`, { 'if-none-match': page.headers.etag ?? '' });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('when the page loads its assets, then each is named by its hash, kept for a year, and gzipped for clients that accept it', async () => {
    const { url } = await start();
    const html = (await get(`${url}/`)).body.toString('utf8');
    const assets = assetsOf(html);
    expect(assets.some((path) => /^\/assets\/app-[\w-]+\.js$/.test(path))).toBe(true);
    expect(assets.some((path) => /^\/assets\/app-[\w-]+\.css$/.test(path))).toBe(true);

    for (const path of assets) {
      const plain = await get(`${url}${path}`);
      const zipped = await get(`${url}${path}`, { 'accept-encoding': 'gzip, br' });

      expect(plain.status, path).toBe(200);
      expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(plain.headers['content-type']).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.vary).toContain('accept-encoding');
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    }
  });

  it('when an asset does not exist or / is sent another method, then the answer is the contract error', async () => {
    const { url } = await start();

    await expectError(await fetch(`${url}/assets/app-nothing.js`), 404, 'not_found');
    const posted = await fetch(`${url}/`, { method: 'POST' });
    expect(allowed(posted)).toEqual(['GET', 'HEAD']);
    await expectError(posted, 405, 'method_not_allowed');
  });

  it('when API_KEYS is set, then the page and its assets load without a key and the API still needs one', async () => {
    const { url } = await start({ API_KEYS: 'page-test-key' });

    const page = await get(`${url}/`);
    expect(page.status).toBe(200);
    for (const path of assetsOf(page.body.toString('utf8'))) {
      expect((await get(`${url}${path}`)).status, path).toBe(200);
    }
    await expectError(await fetch(`${url}/qas`), 401, 'unauthorized');
  });

  it('when UI_ENABLED is false, then there is no page: / is the contract 404', async () => {
    const { url } = await start({ UI_ENABLED: 'false' });

    await expectError(await fetch(`${url}/`), 404, 'not_found');
    await expectError(await fetch(`${url}/assets/app-anything.js`), 404, 'not_found');
  });
});
