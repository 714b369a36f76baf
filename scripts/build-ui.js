// Builds the web page (ui/) into dist/ui/: one bundled, minified script and one stylesheet,
// each named by its content hash so browsers may keep them forever, and the HTML that names
// them. Only committed inputs and node_modules are read; nothing is fetched.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const OUT = 'dist/ui';

export async function buildUi() {
  const result = await build({
    entryPoints: { app: 'ui/src/main.ts', style: 'ui/styles.css' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    legalComments: 'none',
    write: false,
    outdir: 'out',
    logLevel: 'warning',
  });

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(`${OUT}/assets`, { recursive: true });
  const names = {};
  let gzipped = 0;
  for (const file of result.outputFiles) {
    const ext = file.path.endsWith('.css') ? 'css' : 'js';
    const hash = createHash('sha256').update(file.contents).digest('base64url').slice(0, 10);
    const name = `app-${hash}.${ext}`;
    writeFileSync(`${OUT}/assets/${name}`, file.contents);
    names[ext] = name;
    gzipped += gzipSync(file.contents, { level: 9 }).length;
  }
  const html = readFileSync('ui/index.html', 'utf8')
    .replace('%APP_JS%', `/assets/${names.js}`)
    .replace('%APP_CSS%', `/assets/${names.css}`);
  writeFileSync(`${OUT}/index.html`, html);
  console.error(`askbase: web page built in ${OUT} (${(gzipped / 1024).toFixed(1)} KiB gzipped)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await buildUi();
