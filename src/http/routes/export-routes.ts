import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { QuestionAnswer } from '../../domain/question-answer.js';
import type { QaService } from '../../qa/qa-service.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export-formats.js';
import { EVERY_ROUTE_CODES, errorResponses, exportQuery, questionAnswerRef } from '../schemas.js';
import { toJson } from '../serialize.js';
import { listFilter } from './list-query.js';

export interface ExportRoutesOptions {
  qa: QaService;
}

/** Bytes gathered before they are written: fewer, larger writes, and still a bounded memory. */
const CHUNK_BYTES = 64 * 1024;

/** GET /qas/export: every stored question a filter matches, as one streamed file. */
export const exportRoutes: FastifyPluginAsyncJsonSchemaToTs<{
  Options: ExportRoutesOptions;
}> = async (app, { qa }) => {
  // An export has no outcome to wait for: a stop ends those still running at once (their
  // clients see a cut-off download) rather than wait on a client that may never read on.
  const exporting = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const connection of exporting) connection.destroy();
  });
  app.get(
    '/qas/export',
    {
      schema: {
        tags: ['questions'],
        summary: 'Export every question the filters match, newest first, as NDJSON or CSV',
        description:
          'Streamed as it is read from the database, a page at a time, so its size is not limited by memory. A client that disconnects stops the export.',
        querystring: exportQuery,
        response: {
          200: {
            description: 'A file download (Content-Disposition: attachment)',
            content: {
              'application/x-ndjson': { schema: questionAnswerRef },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errorResponses([...EVERY_ROUTE_CODES, 'database_unavailable']),
        },
      },
    },
    async (request, reply) => {
      const filter = listFilter(request.query);
      const format = EXPORT_FORMATS[request.query.format];
      // Fail before the 200 is sent if the database cannot be read at all.
      const rows = qa.exportAll(filter);
      const first = await rows.next();
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const log = request.log;
      const connection = reply.raw;
      exporting.add(connection);
      connection.once('close', () => exporting.delete(connection));
      return reply
        .type(format.contentType)
        .header(
          'content-disposition',
          `attachment; filename="askbase-${stamp}.${format.extension}"`,
        )
        .header('cache-control', 'no-store')
        .send(
          Readable.from(
            body(first, rows, format, (sent) => {
              log.info({ rows: sent }, 'export ended early: the client went away');
              // Its connection too, so that it is not left half-answered, holding up a stop.
              connection.destroy();
            }),
          ),
        );
    },
  );
};

async function* body(
  first: IteratorResult<QuestionAnswer>,
  rest: AsyncGenerator<QuestionAnswer>,
  format: ExportFormat,
  endedEarly: (rowsSent: number) => void,
): AsyncGenerator<string> {
  let pending = format.header;
  let sent = 0;
  let complete = false;
  try {
    if (!first.done) {
      pending += format.row(toJson(first.value));
      sent += 1;
      for await (const qa of rest) {
        pending += format.row(toJson(qa));
        sent += 1;
        if (pending.length >= CHUNK_BYTES) {
          yield pending;
          pending = '';
        }
      }
    }
    if (pending) yield pending;
    complete = true;
  } finally {
    // Stopping here (the response was closed) also returns `rest`: no further page is read.
    if (!complete) {
      await rest.return(undefined);
      endedEarly(sent);
    }
  }
}
