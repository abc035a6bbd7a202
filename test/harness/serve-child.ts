/**
 * Child-process entry for fault and load tests: starts newsfront from a
 * JSON config overlay (argv[2], passed to `testConfig`) and prints one line
 * `PORT <n>` on stdout once it listens. A crash must not take the test
 * runner down, and must be seen: an uncaught exception or unhandled
 * rejection prints `CRASH <kind> <message>` on stdout and exits with status
 * 70 (what an unguarded server process would do: die). Closing stdin stops
 * the server cleanly (exit 0). Logs go nowhere (silent logger) unless
 * NF_CHILD_LOG names a pino level (then to stderr).
 *
 *     node --import tsx test/harness/serve-child.ts '{"upstreams":[...],"data":"/tmp/x"}'
 */
import { testConfig } from '../../src/app/config/load.js';
import type { ConfigInput } from '../../src/app/config/schema.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { startNewsfront } from '../../src/app/start.js';

/** Exit status of a child that hit an uncaught exception or unhandled rejection. */
export const CRASH_EXIT = 70;

const crash = (kind: string) => (err: unknown): void => {
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  process.stdout.write(`CRASH ${kind} ${msg.replace(/\s+/g, ' ')}\n`);
  process.exit(CRASH_EXIT);
};
process.on('uncaughtException', crash('uncaughtException'));
process.on('unhandledRejection', crash('unhandledRejection'));

const overlay = JSON.parse(process.argv[2] ?? '{}') as ConfigInput;
const level = process.env.NF_CHILD_LOG;
const logger = level ? createLogger({ level, fd: 2 }) : silentLogger();
const nf = await startNewsfront(testConfig(overlay), logger);
process.stdout.write(`PORT ${nf.port}\n`);
setInterval(() => {
  process.stdout.write(`STATS ${nf.imap.connectionCount} ${process.memoryUsage().rss}\n`);
}, 1000).unref();
process.stdin.resume();
process.stdin.on('end', () => {
  void nf.close().then(() => process.exit(0));
});
