import { setTimeout as sleep } from 'node:timers/promises';

/** The most a request waits for a row's outcome to be recorded. */
const WAIT_MS = 5_000;
/** How often it looks meanwhile: recording an outcome takes about a millisecond. */
const POLL_MS = 2;

/**
 * A row once it is no longer pending, read with `read`; undefined when it is gone or still
 * pending after a few seconds. /v1 answers its client before recording the answer, so a request
 * that builds on that answer at once (a next turn, a follow-up) may find it pending for a moment.
 */
export async function settled<T extends { status: string }>(
  read: () => Promise<T | undefined>,
  first?: T,
): Promise<T | undefined> {
  let row = first ?? (await read());
  const deadline = Date.now() + WAIT_MS;
  while (row?.status === 'pending' && Date.now() < deadline) {
    await sleep(POLL_MS);
    row = await read();
  }
  return row?.status === 'pending' ? undefined : row;
}
