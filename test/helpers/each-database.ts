/**
 * For `describe.each`: a suite that runs on PostgreSQL and on the embedded database alike, with
 * `({ database }) => useAskbaseSuite({ database })` (helpers/suite.ts).
 */
export const BOTH_DATABASES = [
  { driver: 'PostgreSQL', database: 'postgres' },
  { driver: 'the embedded database', database: 'embedded' },
] as const;

let counter = 0;

/** Text no other test's data holds (tests share a database), so a test finds only its own rows. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}x${counter}`;
}
