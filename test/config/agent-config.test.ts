/**
 * The state agent's options through the shared config system: `newsfront
 * agent --listen … --data … --tokens …` as documented (docs/agent-api.md),
 * the same keys from a config file (`agent` section) or NEWSFRONT_AGENT_*,
 * and bad input answered with exit status 2 and one line naming the key.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig, loadConfig } from '../../src/app/config/load.js';
import { errorOf } from './config-error.js';

const TOKEN = 'agent-config-token-0123456789';

let dir: string;
let child: ChildProcess | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-agent-config-'));
  await writeFile(join(dir, 'tokens'), `${TOKEN} frontend fe1\n`);
});
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agent settings', () => {
  it('reads --listen, --data, --tokens and --log-level', () => {
    expect(loadAgentConfig({ env: {}, flags: { listen: '127.0.0.1:7143', data: '/d', tokens: '/t' } })).toEqual({
      host: '127.0.0.1', port: 7143, dataDir: '/d', store: null, tokensFile: '/t', logLevel: 'info',
    });
    const v6 = loadAgentConfig({ env: {}, flags: { listen: '[::1]:0', data: '/d', tokens: '/t', logLevel: 'debug' } });
    expect([v6.host, v6.port, v6.logLevel]).toEqual(['::1', 0, 'debug']);
  });

  it('takes the agent section from a file and the environment, flags over both', async () => {
    const f = join(dir, 'agent.json');
    await writeFile(f, JSON.stringify({ agent: { listen: { host: '0.0.0.0', port: 7000 }, data: '/file/data', tokens: '/file/tokens' }, log: { level: 'warn' } }));
    expect(loadAgentConfig({ env: {}, flags: { config: f } })).toEqual({
      host: '0.0.0.0', port: 7000, dataDir: '/file/data', store: null, tokensFile: '/file/tokens', logLevel: 'warn',
    });
    const s = loadAgentConfig({ env: { NEWSFRONT_AGENT_DATA: '/env/data', NEWSFRONT_AGENT_LISTEN: ':7001' }, flags: { config: f, tokens: '/flag/tokens' } });
    expect([s.host, s.port, s.dataDir, s.tokensFile]).toEqual(['127.0.0.1', 7001, '/env/data', '/flag/tokens']);
    expect(Object.isFrozen(s)).toBe(true);
    // serve reads the same file and ignores the section
    expect(loadConfig({ file: f, env: {} }).agent.data).toBe('/file/data');
    expect(loadConfig({ env: {} }).agent).toEqual({ listen: null, data: null, store: null, tokens: null });
  });

  it('refuses a missing key, a bad address or a bad value with one line naming the key', () => {
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { data: '/d', tokens: '/t' } })).message)
      .toMatch(/^config: agent\.listen: required by the state agent \(--listen HOST:PORT, NEWSFRONT_AGENT_LISTEN/);
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: ':1', tokens: '/t' } })).message).toMatch(/^config: agent\.data: required/);
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: ':1', data: '/d' } })).message).toMatch(/^config: agent\.tokens: required/);
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: 'localhost', data: '/d', tokens: '/t' } })).message)
      .toBe('config: agent.listen: expected HOST:PORT, got "localhost" (from --listen)');
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: '127.0.0.1:99999', data: '/d', tokens: '/t' } })).message)
      .toMatch(/^config: agent\.listen: /);
    // the layer that set the bad key is named, not the last layer that touched its section
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: ':1', data: '', tokens: '/t' } })).message)
      .toMatch(/^config: agent\.data: .*\(from --data\)$/);
    expect(errorOf(() => loadAgentConfig({ env: {}, flags: { listen: ':1', data: '/d', tokens: '/t', logLevel: 'loud' } })).message)
      .toMatch(/^config: log\.level: .*\(from --log-level\)$/);
  });
});

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agent', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
}

describe('newsfront agent', () => {
  it('exits 2 with one line for bad arguments, a missing key or a bad tokens file', async () => {
    await writeFile(join(dir, 'short-tokens'), 'abc frontend x\n');
    const cases: Array<[string[], RegExp]> = [
      [['--listen', 'localhost', '--data', dir, '--tokens', join(dir, 'tokens')], /^config: agent\.listen: expected HOST:PORT, got "localhost" \(from --listen\)$/],
      [['--data', dir, '--tokens', join(dir, 'tokens')], /^config: agent\.listen: required by the state agent/],
      [['--listen', '127.0.0.1:0', '--data', dir, '--tokens', join(dir, 'no-such-file')], /^config: agent\.tokens: cannot read .*no-such-file: ENOENT$/],
      [['--listen', '127.0.0.1:0', '--data', dir, '--tokens', join(dir, 'short-tokens')], /^config: agent\.tokens: tokens line 1: token shorter than 16$/],
      [['--listen', '127.0.0.1:1', '--data', dir, '--tokens', join(dir, 'tokens'), '--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, want] of cases) {
      const r = cli(args);
      expect([args, r.status]).toEqual([args, 2]);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(want);
    }
  });

  it('serves as documented: prints "listening HOST:PORT", answers /v1/health, stops on SIGTERM with status 0', async () => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'agent', '--listen', '127.0.0.1:0', '--data', join(dir, 'data'),
      '--tokens', join(dir, 'tokens'), '--log-level', 'warn'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = p;
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      p.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^listening 127\.0\.0\.1:(\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void exit.then((code) => reject(new Error(`agent exited ${code}: ${err}`)));
    });
    const health = await fetch(`http://127.0.0.1:${port}/v1/health`);
    expect(await health.json()).toEqual({ ok: true });
    const flags = await fetch(`http://127.0.0.1:${port}/v1/users/u1/mailboxes/m/1/flags`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(flags.status).toBe(200); // the tokens file was read
    p.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
