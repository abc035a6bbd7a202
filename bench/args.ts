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
