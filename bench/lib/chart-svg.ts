/** The chart of scenario `chart` as a self-contained SVG file. */
import { fmt } from './format.js';
import type { ChartPoint } from './results.js';

/** A line chart of throughput against LLM latency, as a self-contained SVG. */
export function renderSvg(points: ChartPoint[], connections: number): string {
  const width = 720;
  const height = 440;
  const margin = { top: 56, right: 48, bottom: 56, left: 72 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const maxLatency = Math.max(1, ...points.map((p) => p.latencyMs));
  const top = Math.max(1, ...points.flatMap((p) => [p.askbase, p.baseline, p.ideal ?? 0]));
  const yStep = niceStep(top / 5);
  const yTicks = Math.ceil(top / yStep);
  const maxValue = yTicks * yStep;
  const px = (value: number) => Math.round(value * 10) / 10;
  const x = (latency: number) => px(margin.left + (latency / maxLatency) * plotW);
  const y = (value: number) => px(margin.top + plotH - (value / maxValue) * plotH);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">POST /ask throughput against LLM latency (${connections} connections)</text>`,
  );
  // Grid and axes.
  for (let i = 0; i <= yTicks; i++) {
    const value = yStep * i;
    parts.push(
      `<line x1="${margin.left}" y1="${y(value)}" x2="${margin.left + plotW}" y2="${y(value)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${y(value) + 4}" text-anchor="end">${fmt(value)}</text>`,
    );
  }
  for (const p of points) {
    parts.push(
      `<line x1="${x(p.latencyMs)}" y1="${margin.top}" x2="${x(p.latencyMs)}" y2="${margin.top + plotH}" stroke="#f0f0f0"/>`,
      `<text x="${x(p.latencyMs)}" y="${margin.top + plotH + 18}" text-anchor="middle">${p.latencyMs}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">LLM latency (ms)</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">requests per second</text>`,
  );

  const series: { name: string; color: string; dash?: string; values: [number, number][] }[] = [
    {
      name: 'ideal (connections / latency)',
      color: '#999999',
      dash: '6 4',
      values: points.flatMap((p) =>
        p.ideal === null ? [] : [[p.latencyMs, p.ideal] as [number, number]],
      ),
    },
    {
      name: 'baseline (node:http + pg + fetch)',
      color: '#e07b00',
      values: points.map((p) => [p.latencyMs, p.baseline]),
    },
    { name: 'askbase', color: '#1f5fbf', values: points.map((p) => [p.latencyMs, p.askbase]) },
  ];
  for (const s of series) {
    if (s.values.length === 0) continue;
    const path = s.values.map(([lx, ly]) => `${x(lx)},${y(ly)}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    for (const [lx, ly] of s.values) {
      parts.push(`<circle cx="${x(lx)}" cy="${y(ly)}" r="3.5" fill="${s.color}"/>`);
      if (s.name === 'askbase' || s.name.startsWith('baseline')) {
        // askbase's value above its point, the baseline's below; the last one left of it.
        const dy = s.name === 'askbase' ? -8 : 16;
        const last = lx === maxLatency;
        parts.push(
          `<text x="${px(x(lx) + (last ? -6 : 6))}" y="${px(y(ly) + dy)}" fill="${s.color}" stroke="#ffffff" stroke-width="3" paint-order="stroke"${last ? ' text-anchor="end"' : ''}>${fmt(ly)}</text>`,
        );
      }
    }
  }
  // Legend, top right.
  series.forEach((s, i) => {
    const ly = margin.top + 8 + i * 18;
    const lx = margin.left + plotW - 230;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** The smallest of 1, 2, 2.5, 5 × a power of ten that is at least `value`. */
function niceStep(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
