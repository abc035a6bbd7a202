/**
 * Configuration: defaults, precedence (defaults < file < env < flags), strict
 * keys, one-line errors naming the key, deep freeze, and the CLI's exit code 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError, loadConfig, parseListen, testConfig } from '../../src/app/config/load.js';
import { errorOf } from './config-error.js';
import { parseNntpUrl, redactNntpUrl } from '../../src/nntp/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, value: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
}

describe('config', () => {
  it('has the documented defaults, and config/default.json states exactly them', () => {
    const c = loadConfig({ env: {} });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 1143 });
    expect(c.upstreams).toEqual([]);
    expect([c.archive, c.data, c.state, c.users, c.anonymous, c.tls]).toEqual([null, './data', 'session', null, true, null]);
    expect(c.namespace).toEqual({ prefix: '', separator: '.' });
    expect(loadConfig({ file: 'config/default.json', env: {} })).toEqual(c);
    // Every key of the schema output appears in default.json and in the README table.
    const json = JSON.parse(readFileSync('config/default.json', 'utf8')) as Record<string, unknown>;
    const readme = readFileSync('config/README.md', 'utf8');
    for (const k of Object.keys(c)) {
      expect(Object.keys(json)).toContain(k);
      expect(readme).toContain(`| \`${k}`);
    }
  });

  it('trims the malloc heap every 500 ms unless cache.mallocTrimMs says otherwise', () => {
    // 2 s let what 50 busy sessions freed pile up between trims (bench/README, session 14)
    expect(loadConfig({ env: {} }).cache.mallocTrimMs).toBe(500);
  });

  it('bounds the header cache by cache.metaMemoryBytes (4 MiB unless set; at least 1 MiB)', async () => {
    expect(loadConfig({ env: {} }).cache.metaMemoryBytes).toBe(4 * 1024 * 1024);
    const small = await file('meta-mem.json', { cache: { metaMemoryBytes: 32 * 1024 * 1024 } });
    expect(loadConfig({ env: {}, file: small }).cache.metaMemoryBytes).toBe(32 * 1024 * 1024);
    const tiny = await file('meta-mem-tiny.json', { cache: { metaMemoryBytes: 1000 } });
    expect(errorOf(() => loadConfig({ env: {}, file: tiny })).message).toContain('cache.metaMemoryBytes');
  });

  it('applies defaults < file < env < flags', async () => {
    const f = await file('prec.json', {
      listen: { host: '0.0.0.0', port: 2000 },
      archive: '/from/file',
      data: '/data/file',
      upstreams: [{ url: 'nntp://file.example', poolSize: 7 }],
      log: { level: 'warn' },
    });
    const c = loadConfig({
      file: f,
      env: { NEWSFRONT_DATA: '/data/env', NEWSFRONT_ARCHIVE: '/from/env', NEWSFRONT_LOG_LEVEL: 'debug', NEWSFRONT_USERS: '' },
      flags: { archive: '/from/flag', upstream: ['nntps://u:p@flag.example'] },
    });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 2000 }); // file over default
    expect(c.data).toBe('/data/env'); // env over file
    expect(c.archive).toBe('/from/flag'); // flag over env
    expect(c.log.level).toBe('debug');
    expect(c.users).toBeNull(); // empty env var = unset
    expect(c.upstreams).toEqual([{ url: 'nntps://u:p@flag.example', poolSize: 4, pipelineWindow: 1000, starttls: false }]);
  });

  it('reads several upstreams from NEWSFRONT_UPSTREAM and listen forms', () => {
    const c = loadConfig({ env: { NEWSFRONT_UPSTREAM: 'nntp://a:1119, nntp://b', NEWSFRONT_LISTEN: '[::1]:993' } });
    expect(c.upstreams.map((u) => u.url)).toEqual(['nntp://a:1119', 'nntp://b']);
    expect(c.listen).toEqual({ host: '::1', port: 993 });
    expect(parseListen(':143', 'x')).toEqual({ host: '127.0.0.1', port: 143 });
    expect(() => parseListen('host:70000', 'x')).toThrow(ConfigError);
  });

  it('names the key, the problem and the origin in one line', async () => {
    const bad = errorOf(() => loadConfig({ env: {}, flags: { upstream: ['http://news.example'] } }));
    expect(bad.message).toMatch(/^config: upstreams\[0\]\.url: expected nntp:\/\/.* \(from --upstream\)$/);
    expect(bad.code).toBe('CONFIG');
    const f = await file('unknown.json', { log: { level: 'info', colour: true } });
    expect(errorOf(() => loadConfig({ file: f, env: {} })).message).toBe(`config: log.colour: unknown key (from ${f})`);
    expect(errorOf(() => testConfig({ upstreams: [{ url: 'nntp://h', poolSize: 0 }] })).message).toMatch(/^config: upstreams\[0\]\.poolSize: /);
    expect(errorOf(() => loadConfig({ env: { NEWSFRONT_STATE: 'ftp://x' } })).message).toMatch(/^config: state: .*\(from NEWSFRONT_STATE\)$/);
    expect(errorOf(() => loadConfig({ file: join(dir, 'missing.json'), env: {} })).message).toMatch(/cannot read .*ENOENT/);
    const broken = await file('broken.json', '{ "listen": ');
    expect(errorOf(() => loadConfig({ file: broken, env: {} })).message).toMatch(/not valid JSON/);
    for (const m of [bad.message]) expect(m.split('\n')).toHaveLength(1);
  });

  it('never echoes an upstream password in errors or ids', () => {
    const e = errorOf(() => testConfig({ upstreams: [{ url: 'nntp://u:s3cret@h/path' }] }));
    expect(e.message).not.toContain('s3cret');
    expect(redactNntpUrl('nntps://u:s3cret@h')).toBe('nntps://u@h:563');
    expect(parseNntpUrl('nntp://h')).toEqual({ tls: false, host: 'h', port: 119 });
  });

  it('is deeply frozen; testConfig overlays the defaults', () => {
    const c = testConfig({ archive: '/a', upstreams: [{ url: 'nntp://x' }] });
    expect(c.archive).toBe('/a');
    expect(c.listen.port).toBe(1143);
    expect(Object.isFrozen(c) && Object.isFrozen(c.listen) && Object.isFrozen(c.upstreams) && Object.isFrozen(c.upstreams[0])).toBe(true);
    expect(() => {
      (c.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('the CLI exits with status 2 and one line for a bad value', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--listen', 'nowhere'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('config: listen: expected HOST:PORT, got "nowhere" (from --listen)');
  });
});
