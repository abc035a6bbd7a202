/**
 * Logger construction. The logger is created once by the CLI and passed down;
 * no module keeps a global logger. Credentials are redacted at every level.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Write to this file descriptor (default 1, stdout). */
  fd?: number;
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: {
        paths: ['password', 'pass', 'secret', 'token', '*.password', '*.pass', '*.secret', '*.token'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: opts.fd ?? 1, sync: false }),
  );
}

/** A logger that discards everything: for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
