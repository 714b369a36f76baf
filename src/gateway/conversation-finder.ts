import { InvalidRequestError } from '../errors.js';
import type { ConversationStore, StoredTurn } from '../qa/ports.js';
import { settled } from '../qa/settled.js';
import type { ConversationState } from './conversation-state.js';

/** Where a chat turn goes: after which turn, in which conversation, and what of it is new. */
export interface Placement {
  /** The turn it follows; null when it joins a named conversation with all its messages. */
  parentId: number | null;
  conversationId: number;
  /** Its messages from this index on are new: what it stores. */
  end: number;
  /** The conversation's first turn is an ask no turn followed yet: it is told its conversation. */
  nameFirst?: boolean;
}

/**
 * Finds the conversation a chat request continues: the stored turn whose messages and answer
 * its messages begin with (ConversationState), or the conversation it names.
 *
 * askbase answers a client before the answer is recorded, so a client that sends its next turn
 * at once may find the turn it follows still pending. That turn is found by its request's
 * digest instead, and its answer waited for (`settled`, on any replica): the next turn then
 * joins it, or does not if the client changed the answer.
 */
export class ConversationFinder {
  constructor(private readonly conversations: ConversationStore) {}

  async place(
    state: ConversationState | undefined,
    { keyName, conversationId }: { keyName?: string | undefined; conversationId?: number },
  ): Promise<Placement | undefined> {
    const candidates = state?.candidates() ?? [];
    if (candidates.length > 0) {
      const turns = await this.conversations.findTurns(
        candidates.map((c) => c.digest),
        candidates.map((c) => c.request),
      );
      for (const candidate of candidates) {
        const newest = (match: (turn: StoredTurn) => boolean) =>
          turns.filter(match).sort((a, b) => b.id - a.id)[0];
        // The newest turn that fits is the one this client continues (the same history may
        // have been sent before), also when it is still being recorded.
        const answered = newest((t) => t.stateDigest === candidate.digest);
        const pending = newest((t) => t.requestDigest === candidate.request);
        const recorded =
          pending && (!answered || pending.id > answered.id)
            ? await settled(() => this.conversations.turn(pending.id), pending)
            : undefined;
        const turn = recorded?.stateDigest === candidate.digest ? recorded : answered;
        if (turn?.stateDigest !== candidate.digest) continue;
        const conversation = turn.conversationId ?? turn.id;
        if (conversationId === undefined || conversationId === conversation) {
          return { parentId: turn.id, conversationId: conversation, end: candidate.end };
        }
      }
    }
    if (conversationId === undefined) return undefined;
    // Named, but not continued by these messages: the turn joins it with all its messages.
    const [first] = await this.conversations.turns(conversationId);
    if (!first || first.keyName !== (keyName ?? null)) {
      throw new InvalidRequestError(
        `no conversation with id ${conversationId}`,
        'X-Askbase-Conversation-Id',
      );
    }
    return {
      parentId: null,
      conversationId,
      end: 0,
      nameFirst: first.kind === 'ask' && first.conversationId === null,
    };
  }
}
