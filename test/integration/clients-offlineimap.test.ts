/**
 * offlineimap (Debian `offlineimap3`) against newsfront over INN, flags in a
 * remote state agent (`state: http://…`): `offlineimap -c CONF -o -u basic`
 * mirrors three groups into a Maildir.
 *
 * Configuration newsfront needs (see docs/clients.md): `folderfilter` naming the
 * groups (otherwise every group of the server is mirrored), `createfolders =
 * False` on the remote (no CREATE), no `-d imap` on articles with raw 8-bit
 * headers (offlineimap 8.0.0 crashes re-serialising them for its debug log).
 *
 * Checked: every article byte-identical to INN's copy (offlineimap stores LF line
 * ends and nothing else changes), flags both ways, a second run after new
 * articles were posted fetches only those.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClients } from '../harness/install-clients.js';
import { crlfToLf } from '../harness/article-bytes.js';
import { generateCorpus } from '../corpus/generate.js';
import { CLIENT_STACK, describeRun, PASS, runProgram, serverFlags, storeFlags, USER, waitForUidNext } from '../clients/fixture.js';
import { startStack, type Stack } from '../harness/stack.js';
import { readBytes, readMaildir, setMaildirFlags } from '../clients/maildir.js';

const GROUPS = ['comp.lang.misc', 'alt.test', 'de.test.offlineimap'];
const SETUP_TIMEOUT_MS = 20 * 60_000;
/** One big article (base64 attachment) in GROUPS[0]: a literal far above any line or buffer size. */
const LARGE_ARTICLE_BYTES = 6 * 1024 * 1024;

function asciiHeader(article: Buffer): boolean {
  const end = article.indexOf('\r\n\r\n');
  return !article.subarray(0, end < 0 ? article.length : end).some((b) => b > 0x7e);
}

describe('offlineimap mirrors groups into a Maildir', () => {
  let fx: Stack;
  let conf: string;
  let maildir: string;

  const offlineimap = (extra: string[] = []) =>
    runProgram('offlineimap', ['-c', conf, '-o', '-u', 'basic', ...extra], { env: { ...process.env, HOME: fx.dir } });
  const folder = (g: string) => join(maildir, g);

  beforeAll(async () => {
    await ensureClients(['offlineimap3']);
    fx = await startStack({ ...CLIENT_STACK, corpus: { seed: 62, groups: GROUPS, perGroup: 14, largeArticleBytes: LARGE_ARTICLE_BYTES }, state: 'agent' });
    maildir = join(fx.dir, 'Maildir');
    conf = join(fx.dir, 'offlineimaprc');
    writeFileSync(
      conf,
      [
        '[general]',
        'accounts = nf',
        `metadata = ${join(fx.dir, 'offlineimap-meta')}`,
        '',
        '[Account nf]',
        'localrepository = local',
        'remoterepository = remote',
        '',
        '[Repository local]',
        'type = Maildir',
        `localfolders = ${maildir}`,
        '',
        '[Repository remote]',
        'type = IMAP',
        'remotehost = 127.0.0.1',
        `remoteport = ${fx.nf.port}`,
        `remoteuser = ${USER}`,
        `remotepass = ${PASS}`,
        'ssl = no',
        'starttls = no',
        `folderfilter = lambda f: f in ${JSON.stringify(GROUPS)}`,
        'createfolders = False',
        '',
      ].join('\n'),
    );
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await fx?.close();
  });

  it('first run: every article (one of 6 MiB) arrives byte-identical to INN\'s copy', async () => {
    expect(Math.max(...fx.byGroup.get(GROUPS[0]!)!.map((a) => a.bytes.length))).toBeGreaterThanOrEqual(LARGE_ARTICLE_BYTES);
    const r = await offlineimap();
    expect(r.status, describeRun(r)).toBe(0);
    expect(r.stdout + r.stderr, describeRun(r)).not.toMatch(/ERROR/);
    for (const g of GROUPS) {
      const articles = fx.byGroup.get(g)!;
      const local = readMaildir(folder(g));
      expect([...local.keys()].sort((a, b) => a - b), g).toEqual(articles.map((_, i) => i + 1));
      const stored = await fx.inn.storedArticles(articles.map((a) => a.messageId));
      for (const [i, a] of articles.entries()) {
        expect(readBytes(local.get(i + 1)!.path).equals(crlfToLf(stored[i]!)), `${g} UID ${i + 1} ${a.messageId}`).toBe(true);
      }
    }
  });

  it('flags go both ways: Maildir S and F → server; server \\Flagged and \\Answered → Maildir', async () => {
    const g = GROUPS[2]!;
    const local = readMaildir(folder(g));
    setMaildirFlags(folder(g), local.get(1)!, 'S');
    setMaildirFlags(folder(g), local.get(3)!, 'FS');
    await storeFlags(fx.nf.port, g, 6, '\\Flagged');
    await storeFlags(fx.nf.port, g, 7, '\\Answered \\Seen');
    const r = await offlineimap();
    expect(r.status, describeRun(r)).toBe(0);
    const server = await serverFlags(fx.nf.port, g);
    expect(server.get(1)).toEqual(['\\Seen']);
    expect([...server.get(3)!].sort()).toEqual(['\\Flagged', '\\Seen']);
    const after = readMaildir(folder(g));
    expect(after.get(6)!.flags).toBe('F');
    expect(after.get(7)!.flags).toBe('RS');
    const touched = new Set([1, 3, 6, 7]);
    for (const [uid, m] of after) if (!touched.has(uid)) expect(m.flags, `UID ${uid}`).toBe('');
    for (const [uid, f] of server) if (!touched.has(uid)) expect(f, `UID ${uid}`).toEqual([]);
  });

  it('a run after new articles were posted fetches only the new ones', async () => {
    const g = GROUPS[1]!;
    const before = fx.byGroup.get(g)!.length;
    // offlineimap's debug path crashes on raw 8-bit header bytes (see the header comment):
    // post two articles whose header is ASCII, so the protocol log can be read here.
    const fresh = generateCorpus({ seed: 6262, groups: [g], perGroup: 12 }).filter((a) => asciiHeader(a.bytes)).slice(0, 2);
    expect(fresh.length).toBe(2);
    for (const a of fresh) await fx.inn.post(a.bytes);
    await waitForUidNext(fx.nf.port, g, before + fresh.length + 1);
    const r = await offlineimap(['-d', 'imap']);
    expect(r.status, describeRun(r)).toBe(0);
    const log = r.stdout + r.stderr;
    const bodyFetches = [...log.matchAll(/> b'[A-Z]+\d+ UID FETCH (\d+) \(BODY\.PEEK\[\]\)/g)].map((m) => Number(m[1]));
    expect(bodyFetches).toEqual(fresh.map((_, i) => before + i + 1));
    const local = readMaildir(folder(g));
    expect(local.size).toBe(before + fresh.length);
    const stored = await fx.inn.storedArticles(fresh.map((a) => a.messageId));
    fresh.forEach((a, i) => {
      expect(readBytes(local.get(before + i + 1)!.path).equals(crlfToLf(stored[i]!)), a.messageId).toBe(true);
    });
  });
});
