/**
 * The metadata store's binary form of MIME structures (structure-codec.ts):
 * round trips of parsed articles (the generated corpus and hand-made edge
 * cases), trees it has no form for, damaged values, and the store reading
 * values of the older msgpack form beside new ones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { decodeStructure, encodeStructure, STRUCTURE_MAGIC } from '../../../src/export/backend/structure-codec.js';
import { MetaStore } from '../../../src/export/backend/meta-store.js';
import { parseStructure, type MimePart } from '../../../src/mime/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { iterateCorpus, BENCH_CORPUS } from '../../corpus/generate.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, '\r\n'), 'utf8');

const EDGE = [
  // parameters in RFC 2231 form (UTF-8 after decoding), disposition, language, MD5, id, description, location
  crlf(
    'From: a@b\nContent-Type: multipart/mixed; boundary="=_b"\n\n--=_b\n' +
      "Content-Type: text/plain; charset*=utf-8''%C3%A9t%C3%A9; format=flowed\nContent-ID: <id@x>\nContent-Description: d\xe9scription\n" +
      'Content-Disposition: attachment; filename="r\u00e9sum\u00e9.txt"; size=12\nContent-Language: en, fr\nContent-Location: http://x/y\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n' +
      'Content-Transfer-Encoding: quoted-printable\n\nhello=3D\nworld\n--=_b\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\n\nplain\n--inner\nContent-Type: text/html\n\n<p>x</p>\n--inner--\n--=_b--\n',
  ),
  // a multipart without a boundary (declared, made opaque) and one without parts (a synthetic child)
  crlf('Content-Type: multipart/mixed\n\nbody\n'),
  crlf('Content-Type: multipart/mixed; boundary=x\n\nno delimiter at all\n'),
  // an encoding nobody decodes: no decoded size
  crlf('Content-Type: application/octet-stream\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n'),
  // no header at all, an empty article
  Buffer.from('just text, no header'),
  Buffer.alloc(0),
];

describe('structure codec', () => {
  it('gives back every part of the generated corpus and of edge cases as parsed', () => {
    let n = 0;
    for (const a of iterateCorpus({ ...BENCH_CORPUS, perGroup: 600, largeAttachmentBytes: undefined } as never)) {
      const root = parseStructure(a.bytes);
      const packed = encodeStructure(root);
      if (packed === null) continue; // an encapsulated message: no form here
      expect(packed[0]).toBe(STRUCTURE_MAGIC);
      expect(decodeStructure(packed)).toEqual(root);
      n++;
    }
    expect(n).toBeGreaterThan(500);
    for (const a of EDGE) {
      const root = parseStructure(a);
      expect(decodeStructure(encodeStructure(root)!)).toEqual(root);
    }
  });

  it('keeps offsets past 4 GiB and refuses trees with an encapsulated message', () => {
    const root = parseStructure(crlf('Content-Type: text/plain\n\nx\n'));
    const big: MimePart = { ...root, bodyStart: 2 ** 33 + 5, bodyEnd: 2 ** 40 + 7, size: 2 ** 40 - 2 ** 33 + 2, decodedSize: 2 ** 52 };
    expect(decodeStructure(encodeStructure(big)!)).toEqual(big);
    const withMessage = parseStructure(crlf('Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n'));
    expect(withMessage.message).toBeDefined();
    expect(encodeStructure(withMessage)).toBeNull();
  });

  it('throws on a value cut short, with bytes left over, or of another format', () => {
    const packed = encodeStructure(parseStructure(EDGE[0]!))!;
    for (let cut = 0; cut < packed.length; cut += 7) expect(() => decodeStructure(packed.subarray(0, cut))).toThrow();
    expect(() => decodeStructure(Buffer.concat([packed, Buffer.from([0])]))).toThrow();
    const other = Buffer.from(packed);
    other[1] = 99;
    expect(() => decodeStructure(other)).toThrow();
  });
});

describe('MetaStore structures', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-codec-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads values of the older msgpack form, stores new ones in the binary form, and both across reopen', async () => {
    const path = join(dir, 'meta.lmdb');
    const legacy = parseStructure(EDGE[0]!);
    const message = parseStructure(crlf('Content-Type: message/rfc822\n\nSubject: inner\nFrom: x@y\n\nbody\n'));
    // what an earlier version wrote: msgpack maps
    const old = openLmdb({ path, maxDbs: 8, compression: false, noSync: true });
    await old.openDB<MimePart, string>('structures', { useRecords: false } as never).put('old', legacy);
    await old.close();
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect(s.structure('old')).toEqual(legacy);
    const fresh = parseStructure(EDGE[1]!);
    s.putStructure('new', fresh);
    s.putStructure('msg', message);
    await s.close();
    const raw = openLmdb({ path, maxDbs: 8, compression: false, noSync: true });
    const bytes = raw.openDB<Buffer, string>('structures', { encoding: 'binary' });
    expect(bytes.getBinary('new')![0]).toBe(STRUCTURE_MAGIC);
    expect(bytes.getBinary('msg')![0]).not.toBe(STRUCTURE_MAGIC); // kept in msgpack: no binary form for it
    await raw.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect(t.structure('old')).toEqual(legacy);
    expect(t.structure('new')).toEqual(fresh);
    expect(t.structure('msg')).toEqual(message);
    expect(t.structure('none')).toBeUndefined();
    await t.close();
  });
});
