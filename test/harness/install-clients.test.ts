/**
 * ensureClients(): the client packages map to their programs and are installed
 * through apt.ts without recommended packages (apt itself is faked).
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_PROGRAMS, ensureClients, type CommandRunner } from './install-clients.js';

describe('ensureClients', () => {
  it('names each program; runs nothing when all are there', async () => {
    const calls: string[][] = [];
    const run: CommandRunner = async (cmd, args) => (calls.push([cmd, ...args]), { code: 0, output: '' });
    const r = await ensureClients(['isync', 'offlineimap3'], { run, present: async () => true, isRoot: true });
    expect(r).toEqual({ installed: [], programs: { isync: '/usr/bin/mbsync', offlineimap3: '/usr/bin/offlineimap' } });
    expect(calls).toEqual([]);
  });

  it('installs the missing packages by Debian name, without recommends', async () => {
    const files = new Set<string>([CLIENT_PROGRAMS.isync]);
    const calls: string[][] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push([cmd, ...args]);
      if (args.includes('install')) for (const p of ['neomutt', 'fetchmail'] as const) files.add(CLIENT_PROGRAMS[p]);
      return { code: 0, output: '' };
    };
    const r = await ensureClients(['isync', 'neomutt', 'fetchmail'], { run, present: async (p) => files.has(p), isRoot: true });
    expect(r.installed).toEqual(['neomutt', 'fetchmail']);
    const install = calls.find((c) => c.includes('install'))!;
    expect(install.slice(-3)).toEqual(['--no-install-recommends', 'neomutt', 'fetchmail']);
  });
});
