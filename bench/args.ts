import { resolve } from 'node:path';
import { urlArg } from './pg.js';

/**
 * Command-line options of the PostgreSQL benches (pg-flags.ts, uidmap-pg.ts):
 * `--NAME N` for each key of `defaults` (a positive integer) and `--url
 * postgres://…`. Throws an Error naming the argument for anything else, a
 * missing value or a value that is not a positive integer.
 */
export function benchArgs<T extends Record<string, number>>(argv: readonly string[], defaults: T): T & { url?: string } {
  const args: T & { url?: string } = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const v = argv[++i];
    if (name === '--url') {
      args.url = urlArg(argv, i - 1);
      continue;
    }
    const key = name.startsWith('--') ? name.slice(2) : '';
    if (!Object.hasOwn(defaults, key)) throw new Error(`unknown argument ${name}`);
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
    (args as Record<string, number>)[key] = n;
  }
  return args;
}

/** Options every row script (bytes-rows, structure-rows, huge-rows) takes. */
export interface RowScriptArgs {
  /** INN port of a running bench/hold-inn.ts (required). */
  port: number;
  /** The 10k corpus of `hold-inn.ts --quick` instead. */
  quick: boolean;
  rounds: number;
  /** Another build's dist/src/cli.js to serve with. */
  cli?: string;
  /** Idle ms before each row: gaps that separate the rows in a CPU profile's timeline. */
  gap: number;
  /** Where the servers' output goes (default: the temp data dir, removed at the end). */
  logDir?: string;
  /** A data directory to serve from (kept afterwards). */
  data?: string;
}

/**
 * Parses the row scripts' common options (`--port P --quick --rounds N --cli
 * PATH --gap MS --log-dir DIR --data DIR`); `own(name, next)` is asked first
 * for the script's own options (`next()` takes the option's value) and says
 * whether it knew the name. Throws an Error for an unknown argument, or when
 * `--port` is missing (`inn` names the hold-inn.ts invocation in that message).
 */
export function rowScriptArgs(argv: readonly string[], own: (name: string, next: () => string) => boolean = () => false, inn = 'bench/hold-inn.ts'): RowScriptArgs {
  const a: RowScriptArgs = { port: 0, quick: false, rounds: 3, gap: 0 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    const next = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${v} needs a value`);
      return x;
    };
    if (own(v, next)) continue;
    if (v === '--port') a.port = Number(next());
    else if (v === '--quick') a.quick = true;
    else if (v === '--rounds') a.rounds = Math.max(1, Number(next()) || 3);
    else if (v === '--cli') a.cli = resolve(next());
    else if (v === '--gap') a.gap = Number(next()) || 0;
    else if (v === '--log-dir') a.logDir = resolve(next());
    else if (v === '--data') a.data = resolve(next());
    else throw new Error(`unknown argument ${v}`);
  }
  if (!(a.port > 0)) throw new Error(`--port P (of a running ${inn}) is required`);
  return a;
}

/** `--NAME VALUE` of a dev aid's argv (`dflt` when absent): the scripts with free-form options (memory.ts, load-ab.ts). */
export function namedArg(argv: readonly string[], name: string, dflt?: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
}

/** `--port` of a running bench/hold-inn.ts; throws when it is missing or no port. */
export function innPortArg(argv: readonly string[]): number {
  const port = Number(namedArg(argv, 'port'));
  if (!Number.isInteger(port) || port <= 0) throw new Error('--port INNPORT (of hold-inn.ts) is required');
  return port;
}
