export interface ServerSentEvent {
  event: string;
  data: unknown;
}

/**
 * Reads a `text/event-stream` body as it arrives, the way a browser's EventSource would:
 * `event:` and `data:` fields, a blank line ending each event, `:` comments skipped.
 */
export async function* readEvents(response: Response): AsyncGenerator<ServerSentEvent> {
  if (!response.body) throw new Error('response has no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  let event = 'message';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += value;
      const lines = buffered.split(/\r\n|\r|\n/);
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { event, data: JSON.parse(data.join('\n')) as unknown };
          event = 'message';
          data = [];
        } else if (line.startsWith('event:')) {
          event = line.slice('event:'.length).trim();
        } else if (line.startsWith('data:')) {
          data.push(line.slice('data:'.length).trimStart());
        }
      }
    }
  } finally {
    // A consumer that stops early closes the connection, as a browser tab going away would.
    await reader.cancel().catch(() => {});
  }
}

/** Every event of a stream that runs to its end. */
export async function allEvents(response: Response): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readEvents(response)) events.push(event);
  return events;
}
