/**
 * The operations keys (`proxy.trusted`, `metrics.listen`) and the rule that
 * every key of the schema, nested ones included, is documented in
 * config/README.md and stated in config/default.json.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, testConfig } from '../../src/app/config/load.js';

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects whose keys are data, not schema keys (group patterns → policy): leaves here. */
const DATA_MAPS = new Set(['index.bodies']);

/** Dotted paths of every key under `v`, objects recursed (arrays, null and DATA_MAPS are leaves). */
function paths(v: unknown, prefix = ''): string[] {
  if (!isObject(v) || DATA_MAPS.has(prefix)) return [];
  return Object.entries(v).flatMap(([k, child]) => {
    if (k === '$comment') return [];
    const p = prefix === '' ? k : `${prefix}.${k}`;
    return [p, ...paths(child, p)];
  });
}

/** The value at dotted path `p`. */
const at = (v: unknown, p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], v);

describe('config keys', () => {
  it('documents every schema key, nested ones included, in README and default.json', () => {
    const defaults = loadConfig({ env: {} });
    const json: unknown = JSON.parse(readFileSync('config/default.json', 'utf8'));
    const readme = readFileSync('config/README.md', 'utf8');
    const inJson = new Set(paths(json));
    for (const p of paths(defaults)) {
      expect(inJson, `default.json lacks ${p}`).toContain(p);
      // a leaf has a row of its own; an object a row of its own or of its keys
      const row = isObject(at(defaults, p)) ? `| \`${p}` : `| \`${p}\``;
      expect(readme.includes(row), `README lacks a row for ${p}`).toBe(true);
    }
    expect(paths(defaults)).toEqual(expect.arrayContaining(['proxy.trusted', 'metrics.listen']));
  });

  it('takes proxy.trusted ranges and a metrics listener, and names the key of a bad value', () => {
    const c = testConfig({ proxy: { trusted: ['10.0.0.0/8', '2001:db8::1'] }, metrics: { listen: { host: '127.0.0.1', port: 9143 } } });
    expect(c.proxy.trusted).toEqual(['10.0.0.0/8', '2001:db8::1']);
    expect(c.metrics.listen).toEqual({ host: '127.0.0.1', port: 9143 });
    expect(loadConfig({ env: {} }).proxy.trusted).toEqual([]);
    expect(loadConfig({ env: {} }).metrics.listen).toBeNull();
    expect(() => testConfig({ proxy: { trusted: ['10.0.0.0/40'] } })).toThrow(/^config: proxy\.trusted\[0\]: prefix length/);
    expect(() => testConfig({ proxy: { trusted: ['haproxy.example'] } })).toThrow(ConfigError);
    expect(() => testConfig({ metrics: { listen: { host: '127.0.0.1', port: 70000 } } })).toThrow(/^config: metrics\.listen\.port: /);
    expect(() => testConfig({ metrics: { listen: { host: '127.0.0.1', port: 1 }, path: '/m' } as never })).toThrow(/metrics\.path: unknown key/);
  });
});
