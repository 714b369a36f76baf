/**
 * The page's only way to the server: askbase's own HTTP API, same origin. The wire types are
 * the ones the server derives from its schemas.
 */
import type { ErrorBodyJson, QuestionAnswerJson } from '../../src/http/schemas.js';

export type QuestionAnswer = QuestionAnswerJson;

/** An error in the contract's shape, or a network failure told the same way. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The stored question's id, when the error concerns one. */
    readonly id?: number,
  ) {
    super(message);
  }
}

/** What to tell the reader when a call failed: an ApiError's message is written for them. */
export const messageOf = (error: unknown) =>
  error instanceof ApiError ? error.message : 'Something went wrong in the page.';

const KEY_STORAGE = 'askbase.api-key';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) ?? undefined,
  set: (key: string) => sessionStorage.setItem(KEY_STORAGE, key),
  clear: () => sessionStorage.removeItem(KEY_STORAGE),
};

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = apiKey.get();
  if (key) headers.set('authorization', `Bearer ${key}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'askbase could not be reached. Is it running?');
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function errorFrom(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => undefined)) as ErrorBodyJson | undefined;
  const error = body?.error;
  return new ApiError(
    response.status,
    error?.code ?? 'http_error',
    error?.message ?? `askbase answered ${response.status}`,
    typeof error?.id === 'number' ? error.id : undefined,
  );
}

export interface Filters {
  q?: string;
  status?: string;
  /** `ask` or `chat`: only rows from POST /ask or only from POST /v1/chat/completions. */
  kind?: string;
  since?: string;
  until?: string;
}

export interface Page {
  items: QuestionAnswer[];
  /** The next page's path, from the Link header (a keyset cursor), when there is one. */
  next: string | undefined;
}

export async function listPage(pathOrFilters: string | Filters, signal?: AbortSignal) {
  const path =
    typeof pathOrFilters === 'string' ? pathOrFilters : `/qas?${listQuery(pathOrFilters)}`;
  const response = await call(path, { signal });
  const items = (await response.json()) as QuestionAnswer[];
  return { items, next: nextLink(response.headers.get('link')) } satisfies Page;
}

export const PAGE_SIZE = 30;

function listQuery(filters: Filters): string {
  return queryOf({ limit: String(PAGE_SIZE), ...filters });
}

/** A query string of the parameters that have a value. */
function queryOf(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  return query.toString();
}

function nextLink(header: string | null): string | undefined {
  const match = header ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(header) : null;
  if (!match?.[1]) return undefined;
  // Only ever follow a path on this origin.
  const url = new URL(match[1], location.origin);
  return url.origin === location.origin ? `${url.pathname}${url.search}` : undefined;
}

/** Every question the filters match, as a file (GET /qas/export), with its suggested name. */
export async function exportFile(
  format: 'csv' | 'ndjson',
  filters: Filters,
): Promise<{ blob: Blob; name: string }> {
  const response = await call(`/qas/export?${queryOf({ format, ...filters })}`);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `askbase-export.${format}`;
  return { blob: await response.blob(), name };
}

export async function getOne(id: number): Promise<QuestionAnswer> {
  return (await (await call(`/qa/${id}`)).json()) as QuestionAnswer;
}

/** A conversation's turns, oldest first (GET /conversations/{id}). */
export async function getConversation(id: number): Promise<QuestionAnswer[]> {
  const body = (await (await call(`/conversations/${id}`)).json()) as { turns: QuestionAnswer[] };
  return body.turns;
}

export async function remove(id: number): Promise<void> {
  await call(`/qa/${id}`, { method: 'DELETE' });
}

export async function retry(id: number): Promise<QuestionAnswer> {
  return (await (await call(`/qa/${id}/retry`, { method: 'POST' })).json()) as QuestionAnswer;
}

export interface StreamHandlers {
  created(id: number): void;
  delta(text: string): void;
}

/**
 * Asks with `Accept: text/event-stream` and reads the server-sent events from the response body
 * (EventSource cannot POST). Resolves with the stored QuestionAnswer (`done`), or throws the
 * `error` event as an ApiError.
 */
export async function askStreaming(
  question: string,
  handlers: StreamHandlers,
): Promise<QuestionAnswer> {
  const response = await call('/ask', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ question }),
  });
  if (!response.body) throw new ApiError(0, 'stream_lost', 'The answer stream did not open.');
  let createdId: number | undefined;
  for await (const { event, data } of serverSentEvents(response.body)) {
    const payload = JSON.parse(data) as unknown;
    if (event === 'created') {
      createdId = (payload as { id: number }).id;
      handlers.created(createdId);
    } else if (event === 'delta') {
      handlers.delta((payload as { text: string }).text);
    } else if (event === 'done') {
      return payload as QuestionAnswer;
    } else if (event === 'error') {
      const { error } = payload as ErrorBodyJson;
      const id = typeof error.id === 'number' ? error.id : createdId;
      throw new ApiError(200, error.code, error.message, id);
    }
  }
  throw new ApiError(
    0,
    'stream_lost',
    'The connection closed before the answer was complete; it is still stored when it arrives.',
    createdId,
  );
}

async function* serverSentEvents(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}
