import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rowScriptArgs } from '../args.js';

describe('rowScriptArgs', () => {
  it('reads the common options and leaves the script its own', () => {
    let own: string | undefined;
    const a = rowScriptArgs(['--port', '119', '--quick', '--rounds', '5', '--cli', 'x/cli.js', '--json', 'o.json', '--gap', '20'], (name, next) =>
      name === '--json' ? ((own = next()), true) : false);
    expect(a).toEqual({ port: 119, quick: true, rounds: 5, cli: resolve('x/cli.js'), gap: 20 });
    expect(own).toBe('o.json');
  });

  it('refuses an unknown argument, a missing value and a missing --port', () => {
    expect(() => rowScriptArgs(['--port', '1', '--bogus'])).toThrow('unknown argument --bogus');
    expect(() => rowScriptArgs(['--port'])).toThrow('--port needs a value');
    expect(() => rowScriptArgs(['--quick'], undefined, 'hold-inn.ts --huge')).toThrow('--port P (of a running hold-inn.ts --huge) is required');
  });
});
