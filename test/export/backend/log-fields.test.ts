/**
 * The backend's log lines, built as `newsfront serve` builds it (backendOptions
 * from a config, then createBackend): each line is one JSON object whose
 * fields appear once, `"component":"backend"` among them. A binding given
 * twice to pino children is written twice, which JSON.parse would hide (it
 * keeps the last), so the raw line is checked as well as the parsed one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { backendOptions } from '../../../src/app/start.js';
import { indexOptionsOf } from '../../../src/app/search-index.js';
import { testConfig } from '../../../src/app/config/load.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { MultiSource } from '../../../src/export/sources.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import { FakeSource } from './fake-source.js';

/**
 * The top-level keys of one JSON object line, in order, a key written twice
 * listed twice (JSON.parse keeps only the last). Throws if the line is not JSON.
 */
function keysOf(line: string): string[] {
  JSON.parse(line);
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (ch === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j;
    }
  }
  return keys;
}

describe('backend log lines', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('keysOf sees a key written twice', () => {
    expect(keysOf('{"a":1,"b":{"a":"x"},"s":"\\"a\\":","t":["c"],"a":2}')).toEqual(['a', 'b', 's', 't', 'a']);
  });

  it('carry each field once, component "backend"', async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-logfields-'));
    const lines: string[] = [];
    const logger = pino({ level: 'info', base: { pid: process.pid } }, { write: (s: string) => void lines.push(s) });
    const config = testConfig({ data: dir });
    const fake = new FakeSource();
    fake.fill('test.group', 3);
    const sources = new MultiSource([fake], { logger });
    const uidmaps = new MemoryUidMapStore();
    const backend = await createBackend({ ...backendOptions(config, sources, uidmaps, logger, undefined, indexOptionsOf(config)), pollIntervalMs: 0 });
    try {
      const h1 = await backend.open('test.group');
      fake.failing = true;
      const h2 = await backend.open('test.group'); // the refresh fails: the backend warns and serves the snapshot
      fake.failing = false;
      h1.release();
      h2.release();
    } finally {
      await backend.close();
      await uidmaps.close();
    }
    const line = lines.find((l) => l.includes('refresh at open failed'));
    expect(line).toBeDefined();
    const keys = keysOf(line!);
    expect(keys.filter((k) => k === 'component')).toEqual(['component']);
    expect(new Set(keys).size).toBe(keys.length);
    const parsed = JSON.parse(line!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ component: 'backend', group: 'test.group', level: 40 });
  });
});
