/**
 * newsfront over a real INN 2.7 holding the generated corpus, read by real
 * IMAP clients (imapflow; Python imaplib in imaplib.test.ts): LIST, SELECT
 * counts, UIDs = article numbers, exact RFC822.SIZE and BODY[] bytes,
 * ENVELOPE and BODYSTRUCTURE against what the generator knows, decoded
 * parts (BINARY) against the generator's hashes, partials, SEARCH, IDLE with
 * an article posted to INN during the test, and the read-only refusals.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow, type FetchMessageObject, type MessageStructureObject } from 'imapflow';
import type { CorpusArticle, PartMeta } from '../corpus/generate.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient } from '../imap/raw-client.js';

const GROUPS = ['comp.lang.misc', 'alt.test', 'de.test.umlaut'];
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function client(port: number, user = 'alice', pass = 'secret'): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true });
}

/** Leaves of the generator's MIME tree with their IMAP section numbers. */
function leaves(p: PartMeta, out: PartMeta[] = []): PartMeta[] {
  if (p.children && p.type !== 'message') p.children.forEach((c) => leaves(c, out));
  else if (p.type !== 'message') out.push(p);
  return out;
}

/** BINARY.PEEK[part] over a raw connection (imapflow's download converts charsets). */
async function binaryPart(port: number, group: string, uid: number, part: string): Promise<Buffer> {
  const c = await RawClient.connect(port);
  try {
    await c.cmd('a', 'LOGIN alice secret');
    await c.cmd('b', `EXAMINE ${group}`);
    c.write(`c UID FETCH ${uid} (BINARY.PEEK[${part}])\r\n`);
    await c.until((t) => /\r\nc (OK|NO|BAD)/.test(t));
    const buf = c.takeBuffer();
    const m = /BINARY\[[0-9.]+\] ~?\{(\d+)\}\r\n/.exec(buf.toString('latin1'));
    if (!m) throw new Error(`no literal in ${buf.toString('latin1').slice(0, 200)}`);
    const start = m.index + m[0].length;
    return buf.subarray(start, start + Number(m[1]));
  } finally {
    c.close();
  }
}

function compareStructure(ours: MessageStructureObject, meta: PartMeta): void {
  if (meta.children && meta.type === 'multipart') {
    expect(ours.type).toBe(`multipart/${meta.subtype}`);
    expect(ours.childNodes?.length).toBe(meta.children.length);
    meta.children.forEach((c, i) => compareStructure(ours.childNodes![i]!, c));
    return;
  }
  expect(ours.type).toBe(`${meta.type}/${meta.subtype}`);
  expect((ours.encoding ?? '7bit').toLowerCase()).toBe(meta.encoding.toLowerCase());
  expect(ours.size).toBe(meta.bodyOctets);
  if (meta.params.charset) expect(ours.parameters?.charset?.toLowerCase()).toBe(meta.params.charset.toLowerCase());
}

describe('newsfront over INN with imapflow', () => {
  let stack: Stack;
  let byGroup: Map<string, CorpusArticle[]>;

  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 4, groups: GROUPS, perGroup: 40 }, config: { pollIntervalMs: 1000 } });
    byGroup = stack.byGroup;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('LIST shows every group; SELECT counts match; UIDs are article numbers', async () => {
    const c = client(stack.nf.port);
    await c.connect();
    try {
      const names = (await c.list()).map((m) => m.path);
      for (const g of GROUPS) expect(names).toContain(g);
      expect(names).toContain('INBOX');
      for (const g of GROUPS) {
        const box = await c.mailboxOpen(g, { readOnly: true });
        expect(box.exists).toBe(byGroup.get(g)!.length);
        const uids: number[] = [];
        for await (const m of c.fetch('1:*', { uid: true })) uids.push(m.uid);
        expect(uids).toEqual(byGroup.get(g)!.map((_, i) => i + 1));
      }
    } finally {
      await c.logout();
    }
  });

  it('every article: exact size and bytes, ENVELOPE, BODYSTRUCTURE, decoded parts, partials', async () => {
    const c = client(stack.nf.port);
    await c.connect();
    try {
      for (const g of GROUPS) {
        await c.mailboxOpen(g, { readOnly: true });
        const msgs: FetchMessageObject[] = [];
        for await (const m of c.fetch('1:*', { uid: true, size: true, envelope: true, bodyStructure: true, source: true })) msgs.push(m);
        const articles = byGroup.get(g)!;
        expect(msgs.length).toBe(articles.length);
        for (const m of msgs) {
          const a: CorpusArticle = articles[m.uid - 1]!;
          const stored = await stack.inn.storedArticle(a.messageId);
          expect(m.size, `size of ${a.messageId}`).toBe(stored.length);
          expect(sha(m.source!), `bytes of ${a.messageId}`).toBe(sha(stored));
          expect(m.envelope!.subject).toBe(a.meta.subject);
          expect(m.envelope!.messageId).toBe(a.messageId);
          expect(m.envelope!.from![0]!.address).toBe(a.meta.fromAddress);
          if (a.meta.fromName !== undefined) expect(m.envelope!.from![0]!.name).toBe(a.meta.fromName);
          compareStructure(m.bodyStructure!, a.meta.parts);
        }
        // decoded leaves and partials on a sample of MIME articles
        for (const a of articles.filter((x) => x.meta.mime).slice(0, 8)) {
          const uid = articles.indexOf(a) + 1;
          for (const leaf of leaves(a.meta.parts)) {
            if (leaf.decodedSha256 === undefined) continue;
            const part = leaf.section === '' ? '1' : leaf.section;
            const decoded = await binaryPart(stack.nf.port, g, uid, part);
            expect(sha(decoded), `part ${part} of ${a.messageId}`).toBe(leaf.decodedSha256);
          }
          const stored = await stack.inn.storedArticle(a.messageId);
          const partial = await c.fetchOne(String(uid), { bodyParts: ['1.MIME', 'TEXT'] }, { uid: true });
          expect(partial).toBeTruthy();
          const r = await c.fetchOne(String(uid), { source: { start: 100, maxLength: 50 } }, { uid: true });
          expect(r && r.source?.equals(stored.subarray(100, 150))).toBe(true);
        }
      }
    } finally {
      await c.logout();
    }
  });

  it('SEARCH SUBJECT / FROM / BODY agree with the generator', async () => {
    const c = client(stack.nf.port);
    await c.connect();
    try {
      const g = GROUPS[0]!;
      await c.mailboxOpen(g, { readOnly: true });
      const articles = byGroup.get(g)!;
      const sample = articles.find((a) => a.meta.bodyWords.length > 3)!;
      const word = sample.meta.subject.split(/\s+/).find((w) => /^[a-z]{4,}$/i.test(w))!;
      const expectSubject = articles.flatMap((a, i) => (a.meta.subject.toLowerCase().includes(word.toLowerCase()) ? [i + 1] : []));
      expect(await c.search({ subject: word }, { uid: true })).toEqual(expectSubject);
      const addr = sample.meta.fromAddress;
      const expectFrom = articles.flatMap((a, i) => (a.meta.from.toLowerCase().includes(addr.toLowerCase()) ? [i + 1] : []));
      expect(await c.search({ from: addr }, { uid: true })).toEqual(expectFrom);
      const bodyWord = sample.meta.bodyWords.find((w) => w.length > 6) ?? sample.meta.bodyWords[0]!;
      const hits = (await c.search({ body: bodyWord }, { uid: true })) as number[];
      const known = articles.flatMap((a, i) => (a.meta.bodyWords.some((w) => w.toLowerCase() === bodyWord.toLowerCase()) ? [i + 1] : []));
      for (const k of known) expect(hits).toContain(k);
    } finally {
      await c.logout();
    }
  });

  it('IDLE sees an article posted to INN during the session', async () => {
    const c = client(stack.nf.port);
    await c.connect();
    try {
      const g = GROUPS[1]!;
      const box = await c.mailboxOpen(g, { readOnly: true });
      const before = box.exists;
      const seen = new Promise<number>((resolve) => c.on('exists', (d: { count: number }) => resolve(d.count)));
      const idle = c.idle();
      const msgid = `<idle-${Date.now()}@test.invalid>`;
      await stack.inn.post(
        Buffer.from(
          `Path: test!not-for-mail\r\nFrom: Idle Tester <idle@test.invalid>\r\nNewsgroups: ${g}\r\nSubject: posted during IDLE\r\n` +
            `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: ${msgid}\r\n\r\nhello\r\n`,
        ),
      );
      expect(await seen).toBe(before + 1);
      void idle;
    } finally {
      await c.logout();
    }
  });

  it('commands that would change public data are refused with a code', async () => {
    const c = client(stack.nf.port);
    await c.connect();
    try {
      await c.mailboxOpen(GROUPS[0]!);
      await expect(c.mailboxCreate('new.group')).rejects.toThrow();
      await expect(c.messageDelete('1')).resolves.toBe(false);
      await expect(c.append(GROUPS[0]!, Buffer.from('Subject: x\r\n\r\nx\r\n'))).rejects.toThrow();
      await expect(c.messageCopy('1', GROUPS[1]!)).resolves.toBe(false);
      // the session is still usable
      expect(await c.status(GROUPS[0]!, { messages: true })).toMatchObject({ messages: byGroup.get(GROUPS[0]!)!.length });
    } finally {
      await c.logout();
    }
  });
});
