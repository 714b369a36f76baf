/** For `describe.each`: a suite that runs on PostgreSQL and on the embedded database alike. */
export const BOTH_DATABASES = [
  { driver: 'PostgreSQL', embedded: false },
  { driver: 'the embedded database', embedded: true },
] as const;

let counter = 0;

/** Text no other test's data holds (tests share a database), so a test finds only its own rows. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}x${counter}`;
}
