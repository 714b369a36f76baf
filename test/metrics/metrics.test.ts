import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { allEvents } from '../helpers/server-sent-events.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition, comments skipped. */
function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name = '', labelText = '', value = ''] =
        /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line) ?? [];
      const labels = Object.fromEntries(
        [...labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key = '', val = '']) => [
          key,
          val,
        ]),
      );
      return { name, labels, value: Number(value) };
    });
}

describe('GET /metrics on PostgreSQL', () => {
  const suite = useAskbaseSuite();

  async function scrape(target = suite.askbase) {
    const response = await fetch(`${target.url}/metrics`);
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  }
  /** The value of the one sample named `name` whose labels include `labels`; 0 when absent. */
  const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples
      .filter((sample) => sample.name === name)
      .filter((sample) => Object.entries(labels).every(([k, v]) => sample.labels[k] === v))
      .reduce((sum, sample) => sum + sample.value, 0);

  it('when scraped, then the reply is the Prometheus text format', async () => {
    const response = await fetch(`${suite.askbase.url}/metrics`);

    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toContain('# TYPE askbase_http_requests_total counter');
  });

  it('when a question has been answered, then HTTP, LLM and token counts show it', async () => {
    const before = await scrape();

    const response = await ask(suite.askbase.url, {
      question: 'How many tokens is this question?',
    });
    expect(response.status).toBe(200);

    const after = await scrape();
    const grew = (name: string, labels: Record<string, string> = {}) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    const askLabels = { method: 'POST', route: '/ask', status_code: '200' };
    expect(grew('askbase_http_requests_total', askLabels)).toBe(1);
    expect(grew('askbase_http_request_duration_seconds_count', askLabels)).toBe(1);
    expect(grew('askbase_llm_calls_total', { outcome: 'answered' })).toBe(1);
    expect(grew('askbase_llm_call_duration_seconds_count', { outcome: 'answered' })).toBe(1);
    expect(grew('askbase_llm_tokens_total', { kind: 'prompt' })).toBe(6);
    expect(grew('askbase_llm_tokens_total', { kind: 'completion' })).toBe(8);
  });

  it('when the LLM fails, then the call is counted under its error code', async () => {
    suite.fake.setBehavior({ fault: 'server_error' });
    const before = await scrape();

    await ask(suite.askbase.url, { question: 'Will this fail?' });

    const after = await scrape();
    const outcome = { outcome: 'llm_unavailable' };
    expect(
      valueOf(after, 'askbase_llm_calls_total', outcome) -
        valueOf(before, 'askbase_llm_calls_total', outcome),
    ).toBe(1);
  });

  it('when an answer is streamed, then the request and its tokens are counted once it ends', async () => {
    const before = await scrape();

    await allEvents(await ask(suite.askbase.url, { question: 'Stream it', stream: true }));

    const after = await scrape();
    const askLabels = { method: 'POST', route: '/ask', status_code: '200' };
    const grew = (name: string, labels: Record<string, string>) =>
      valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(grew('askbase_http_requests_total', askLabels)).toBe(1);
    expect(grew('askbase_llm_tokens_total', { kind: 'completion' })).toBeGreaterThan(0);
  });

  it('when a streamed ask ends in an error event, then it is counted with the status of its error, not 200', async () => {
    // An app of its own, so no other test's request is counted alongside.
    const own = await suite.start();
    suite.fake.setBehavior({ fault: 'server_error' });
    await allEvents(await ask(own.url, { question: 'Stream a failure', stream: true }));
    suite.fake.reset();

    const count = async (status: string) =>
      valueOf(await scrape(own), 'askbase_http_requests_total', {
        method: 'POST',
        route: '/ask',
        status_code: status,
      });
    // The count lands just after the stream ends; the bound only guards against a hang.
    await expect.poll(() => count('503'), { timeout: 10_000 }).toBe(1);
    expect(await count('200')).toBe(0);
  });

  it('when URLs carry ids or match no route, then requests are labelled by route pattern', async () => {
    await fetch(`${suite.askbase.url}/qa/987654`);
    await fetch(`${suite.askbase.url}/no/such/path`);

    const after = await scrape();

    const routes = new Set(
      after.filter((s) => s.name === 'askbase_http_requests_total').map((s) => s.labels.route),
    );
    expect(routes).toContain('/qa/:id');
    expect(routes).toContain('unmatched');
    expect([...routes].some((route) => route?.includes('987654'))).toBe(false);
    expect(routes).not.toContain('/no/such/path');
  });

  it('when scraped, then the database pool and the process are reported', async () => {
    await fetch(`${suite.askbase.url}/qas?limit=1`); // leaves an idle connection in the pool

    const samples = await scrape();
    const names = new Set(samples.map((sample) => sample.name));

    for (const name of [
      'askbase_db_pool_connections_in_use',
      'askbase_db_pool_connections_idle',
      'askbase_db_pool_requests_waiting',
      'askbase_db_pool_connections_max',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(names).toContain(name);
    }
    expect(valueOf(samples, 'askbase_db_pool_connections_max')).toBe(10);
    expect(valueOf(samples, 'askbase_db_pool_connections_idle')).toBeGreaterThan(0);
  });

  it('when two apps run in one process, then each counts only its own requests', async () => {
    const other = await suite.start();
    await ask(suite.askbase.url, { question: 'Counted by the first app only' });

    const samples = await scrape(other);

    expect(valueOf(samples, 'askbase_http_requests_total', { route: '/ask' })).toBe(0);
    expect(valueOf(samples, 'askbase_llm_calls_total')).toBe(0);
  });
});
