import { expect } from 'vitest';
import type { ErrorBodyJson, QuestionAnswerJson } from '../../src/http/schemas.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** ISO-8601 in UTC, the way the contract writes timestamps: 2026-11-22T01:49:38.123Z */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The wire form of a QuestionAnswer: the type the API's own schema gives it. */
export type QaJson = QuestionAnswerJson;

/** The `error` object of an error body, as the API's schema gives it. */
export type ErrorJson = ErrorBodyJson['error'];

/**
 * Asserts the contract's error shape: `status`, a JSON content type, and
 * `{"error": {"code", "message", ...}}` with no stack trace or HTML. Returns the error object
 * and the raw body text (for checks that nothing secret leaked).
 */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ error: ErrorJson; text: string }> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type'), text).toBe(JSON_CONTENT_TYPE);
  const body = JSON.parse(text) as { error: ErrorJson };
  expect(body.error, text).toMatchObject({ code, message: expect.any(String) as string });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(text).not.toMatch(/<html|\bat .+:\d+:\d+|stack/i);
  return { error: body.error, text };
}

/** Asserts a 200 JSON response and returns its parsed body. */
export async function expectOk<T>(response: Response): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get('content-type'), text).toBe(JSON_CONTENT_TYPE);
  return JSON.parse(text) as T;
}

/** The methods an `Allow` header lists, upper-cased. */
export function allowed(response: Response): string[] {
  return (response.headers.get('allow') ?? '')
    .split(',')
    .map((method) => method.trim().toUpperCase())
    .filter(Boolean);
}

/** A base URL on 127.0.0.1 where nothing listens (a port that was free a moment ago). */
export async function closedPortBaseUrl(): Promise<string> {
  const port = await freePort();
  return `http://127.0.0.1:${port}/v1`;
}

/**
 * GET /qa/{id} once the row has its outcome: /v1 answers before it records the answer, so a
 * read right after the response may find the row pending for a moment.
 */
export async function settledRow<T extends { status: string }>(
  baseUrl: string,
  id: number,
  headers: Record<string, string> = {},
): Promise<T> {
  return waitFor(
    async () => {
      const row = await expectOk<T>(await fetch(`${baseUrl}/qa/${id}`, { headers }));
      return row.status !== 'pending' && row;
    },
    { what: `question ${id} to have its outcome` },
  );
}
