/**
 * The sample archive: deterministic, committed copy up to date, and readable by
 * the archive source with the features it promises (crossposts, a missing
 * Message-ID, 8-bit bytes, base64 attachments that decode).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { generateSampleArchive } from '../../src/export/sample/generate.js';
import { ArchiveSource } from '../../src/export/archive/archive-source.js';
import { silentLogger } from '../../src/util/log.js';
import type { OverviewRecord } from '../../src/export/source.js';

async function all(src: ArchiveSource, g: string): Promise<OverviewRecord[]> {
  const out: OverviewRecord[] = [];
  for await (const r of src.overview(g, 1, 1e9)) out.push(r);
  return out;
}

async function bytes(src: ArchiveSource, g: string, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await src.article(g, n)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('sample archive', () => {
  it('is deterministic and the committed sample/ equals the generator output', () => {
    const a = generateSampleArchive();
    const b = generateSampleArchive();
    expect([...a.keys()]).toEqual(['sample.announce.mbox', 'sample.binaries.mbox', 'sample.discuss.mbox', 'sample.i18n.mbox']);
    for (const [k, v] of a) expect(v.equals(b.get(k)!)).toBe(true);
    expect(readdirSync('sample').sort()).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(readFileSync(`sample/${k}`).equals(v), `sample/${k} is stale: run newsfront sample sample`).toBe(true);
    const total = [...a.values()].reduce((s, v) => s + v.length, 0);
    expect(total).toBeLessThan(1024 * 1024);
  });

  it('serves every article with sizes matching the overview, and has the promised features', async () => {
    const src = new ArchiveSource({ dir: 'sample', logger: silentLogger() });
    try {
      const groups = await src.listGroups();
      expect(groups.map((g) => [g.name, g.count]).sort()).toEqual([
        ['sample.announce', 30],
        ['sample.binaries', 20],
        ['sample.discuss', 194],
        ['sample.i18n', 60],
      ]);
      const ids = new Map<string, string[]>();
      let eightBit = 0;
      for (const g of groups) {
        const ov = await all(src, g.name);
        for (const r of ov) {
          const b = await bytes(src, g.name, r.number);
          expect(b.length).toBe(r.bytes);
          if (b.some((x) => x > 0x7f)) eightBit++;
          ids.set(r.messageId, [...(ids.get(r.messageId) ?? []), g.name]);
        }
      }
      const crossposted = [...ids.values()].filter((gs) => gs.length > 1);
      expect(crossposted.length).toBe(6);
      expect(crossposted.every((gs) => gs.join() === 'sample.announce,sample.discuss')).toBe(true);
      expect([...ids.keys()].filter((id) => id.endsWith('@newsfront.invalid>') && !id.startsWith('<sample.'))).toHaveLength(1);
      expect(eightBit).toBeGreaterThan(10);
      const threaded = (await all(src, 'sample.discuss')).filter((r) => r.references !== '');
      expect(threaded.length).toBeGreaterThan(100);
      // Attachments decode to the size their text part announces.
      const art = (await bytes(src, 'sample.binaries', 1)).toString('latin1');
      const size = Number(/\((\d+) bytes\)/.exec(art)![1]);
      const b64 = /Content-Transfer-Encoding: base64\r\nContent-Disposition: [^\r]*\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(art)![1]!;
      expect(Buffer.from(b64.replace(/\r\n/g, ''), 'base64').length).toBe(size);
      const head = (await src.head('sample.i18n', 1)).toString('latin1');
      expect(head).toMatch(/^Subject: =\?ISO-8859-1\?Q\?/m);
    } finally {
      await src.close();
    }
  });
});
