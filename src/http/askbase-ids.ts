import type { FastifyReply } from 'fastify';

/** Names the stored exchange and its conversation in the headers (see askbaseIdHeaders). */
export function setAskbaseIds(
  reply: FastifyReply,
  row: { id: number; conversationId: number | null },
): void {
  reply.header('x-askbase-id', String(row.id));
  reply.header('x-askbase-conversation-id', String(row.conversationId ?? row.id));
}
