import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AskRequest, QaService } from '../../qa/qa-service.js';
import { toErrorResponse } from '../error-handler.js';
import { EventStream } from '../event-stream.js';
import { toJson } from '../serialize.js';

/** The body's `stream` flag when given, else whether the client accepts an event stream. */
export function wantsEventStream(stream: boolean | undefined, accept: string | undefined): boolean {
  if (stream !== undefined) return stream;
  return (accept ?? '').split(',').some((range) => {
    const [mediaType, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    return mediaType === 'text/event-stream' && !params.some((param) => /^q=0(\.0*)?$/.test(param));
  });
}

/**
 * POST /ask as server-sent events. Until the question is stored nothing is streamed, so
 * validation, idempotency and availability errors stay plain JSON errors with their status;
 * after that every outcome, failure included, is an event.
 */
export async function streamAnswer(
  qa: QaService,
  ask: AskRequest,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const events = new EventStream(reply);
  let questionId: number | undefined;
  try {
    const answered = await qa.ask(ask, {
      created: ({ id }) => {
        questionId = id;
        events.send('created', { id });
      },
      delta: (text) => events.send('delta', { text }),
    });
    // A repeated Idempotency-Key replays the stored answer without streaming it again.
    if (!events.started) events.send('created', { id: answered.id });
    events.send('done', toJson(answered));
  } catch (error) {
    if (!events.started) throw error;
    const { status, body } = toErrorResponse(error, request);
    events.setOutcomeStatus(status);
    events.send('error', { error: { ...body.error, id: questionId } });
  } finally {
    events.end();
  }
}
