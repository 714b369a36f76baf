/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `BENCH_CPU_PROF=1 npm run bench`):
 * self time by function and by package, and total (inclusive) time of askbase's own functions.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/NN-askbase.cpuprofile [top] [requests]
 *
 * With `requests` (the responses the server sent while profiled: allResponses in
 * bench/results/partial.tmp), times are also given in µs per request.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const requests = Number(process.argv[4] ?? 0);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

// Self time per node, from the samples and the time between them.
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
});
const totalUs = profile.endTime - profile.startTime;

// What ships is bundled (dist/main.js holds the dependencies too): each frame is traced back
// through the bundle's source map to the file it came from, so packages are told apart again.
const sourceMaps = new Map<string, SourceMap | undefined>();
const original = (frame: CallFrame): CallFrame => {
  if (!frame.url.startsWith('file://') || !frame.url.includes('/dist/')) return frame;
  if (!sourceMaps.has(frame.url)) {
    const mapFile = `${fileURLToPath(frame.url)}.map`;
    sourceMaps.set(
      frame.url,
      existsSync(mapFile)
        ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as never)
        : undefined,
    );
  }
  const entry = sourceMaps.get(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  if (!entry || !('originalSource' in entry)) return frame;
  return {
    ...frame,
    url: new URL(entry.originalSource, frame.url).href,
    lineNumber: entry.originalLine,
  };
};

const where = (bundled: CallFrame) => {
  const frame = original(bundled);
  const url = frame.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  // drizzle-orm's own source maps point one level too high (node_modules/src/…).
  if (pkg === 'src') return 'drizzle-orm';
  if (pkg) return pkg;
  if (url.includes('/dist/') || url.includes('/src/')) return 'askbase';
  if (url.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native/V8)';
  return url;
};
const label = (bundled: CallFrame) => {
  const frame = original(bundled);
  return `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${frame.lineNumber + 1}`;
};

const bump = (map: Map<string, number>, key: string, us: number) =>
  map.set(key, (map.get(key) ?? 0) + us);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
// Inclusive time: each sample counts once for every distinct askbase function on its stack.
const inclusiveOwn = new Map<string, number>();
// Inclusive time by package: each sample counts once for every package on its stack.
const inclusivePackage = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  if (!node) continue;
  bump(byFunction, label(node.callFrame), us);
  bump(byPackage, where(node.callFrame), us);
  const seen = new Set<string>();
  const packages = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)?.callFrame;
    if (!frame) continue;
    packages.add(where(frame));
    if (where(frame) === 'askbase') seen.add(label(frame));
  }
  for (const key of seen) bump(inclusiveOwn, key, us);
  for (const key of packages) bump(inclusivePackage, key, us);
}

const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    const perRequest = requests > 0 ? `${(us / requests).toFixed(0).padStart(6)} µs/req  ` : '';
    console.log(
      `${((us / totalUs) * 100).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${perRequest}${key}`,
    );
  }
};
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s profiled`);
print('self time by package', byPackage, top);
print(
  'inclusive time by package (a sample counts for every package on its stack)',
  inclusivePackage,
  top,
);
print('self time by function', byFunction, top);
print("inclusive time of askbase's own functions", inclusiveOwn, top);
