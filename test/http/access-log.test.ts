import { describe, expect, it } from 'vitest';
import { ask } from '../helpers/askbase.js';
import { unique } from '../helpers/each-database.js';
import { useAskbaseSuite } from '../helpers/suite.js';
import { waitFor } from '../helpers/wait-for.js';

describe('the access log at the default level', () => {
  const suite = useAskbaseSuite({ captureLogs: true });

  /**
   * The log lines of a request, once its access line is written: that happens as the response
   * finishes on the server, which may be just after the client has read it.
   */
  const linesOf = async (requestId: string | null) => {
    const of = () => suite.askbase.logs.filter((line) => line.reqId === requestId);
    await waitFor(() => of().some((line) => line.msg === 'request completed'), {
      what: 'the access-log line',
    });
    return of();
  };

  it('when a request is served, then one line says its method, path, status and time', async () => {
    const response = await ask(suite.askbase.url, { question: unique('Logged once?') });
    await response.text();

    const lines = await linesOf(response.headers.get('x-request-id'));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      method: 'POST',
      path: '/ask',
      statusCode: 200,
    });
    expect(lines[0]?.ms).toEqual(expect.any(Number));
  });

  it('when a search is served, then its words are not in the log', async () => {
    const secret = unique('secretword');
    const response = await fetch(`${suite.askbase.url}/qas?q=${secret}&limit=5`);
    await response.text();

    const lines = await linesOf(response.headers.get('x-request-id'));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ path: '/qas', statusCode: 200 });
    expect(JSON.stringify(suite.askbase.logs)).not.toContain(secret);
  });
});
