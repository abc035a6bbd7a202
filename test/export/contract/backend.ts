/**
 * The one contract suite for the backend interface (src/export/interface.ts,
 * STYLE §4): what src/imap may rely on from any `Backend`. Run against the
 * real export backend over an archive (../backend-contract.test.ts) and over
 * INN (../backend-contract.inn.test.ts), and against the IMAP layer's fixture
 * (test/imap/fixture-backend.ts), so the fixture the IMAP tests use behaves
 * like the real thing.
 *
 * It checks: the mailbox tree (INBOX, groups, \Noselect parents), STATUS and
 * snapshots agreeing, UIDs ascending and stable, meta in the order asked with
 * exact sizes and the header block, content and ranges byte for byte, MIME
 * structure, hints that never throw, and BackendError NONEXISTENT for what is
 * not there. With `add`: a new article appears on refresh under a new UID,
 * listeners hear of it, old UIDs keep their articles (DESIGN invariant 1).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { BackendError, type Backend, type MailboxHandle, type MailboxSnapshot } from '../../../src/export/interface.js';
import { headerEnd, parseStructure } from '../../../src/mime/index.js';
import { fixtureArticle, type FixtureArticle } from './articles.js';

/** A message as the backend must serve it. */
export interface ExpectedMessage {
  uid: number;
  subject: string;
  /** Exactly what `content(uid)` returns. */
  bytes: Buffer;
}

export interface BackendHarness {
  backend: Backend;
  /** Every group mailbox with its messages in ascending UID order ([] for an empty one). */
  expected: ReadonlyMap<string, readonly ExpectedMessage[]>;
  /**
   * Put a new article into a mailbox the way its upstream gets one (post to
   * INN, append to the mbox file, add to the fixture); resolves with the bytes
   * the backend must serve for it once it has seen it.
   */
  add?: (mailbox: string, article: FixtureArticle) => Promise<Buffer>;
  cleanup: () => Promise<void>;
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BackendError);
    return (err as BackendError).code;
  }
  throw new Error('expected a BackendError, got success');
}

/** Parents of dotted names (`a.b.c` → `a`, `a.b`). */
function parentsOf(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    const parts = n.split('.');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

/** Message-IDs of added articles must be new on a long-lived upstream. */
let addSerial = 0;

export function backendContract(name: string, make: () => Promise<BackendHarness>): void {
  describe(`Backend contract: ${name}`, () => {
    let h: BackendHarness;
    let b: Backend;
    let open: MailboxHandle[];
    let full: [string, readonly ExpectedMessage[]][];
    const openBox = async (mailbox: string): Promise<MailboxHandle> => {
      const handle = await b.open(mailbox);
      open.push(handle);
      return handle;
    };
    beforeEach(async () => {
      h = await make();
      b = h.backend;
      open = [];
      full = [...h.expected].filter(([, m]) => m.length > 0);
      expect(full.length).toBeGreaterThan(0);
    });
    afterEach(async () => {
      for (const handle of open) handle.release();
      await h.cleanup();
    });

    it('lists INBOX, every group mailbox, and their parents as \\Noselect', async () => {
      const entries = new Map((await b.mailboxes()).map((e) => [e.name, e]));
      expect(entries.get('INBOX')?.selectable).toBe(true);
      for (const mailbox of h.expected.keys()) expect(entries.get(mailbox)?.selectable, mailbox).toBe(true);
      for (const parent of parentsOf(h.expected.keys())) {
        if (h.expected.has(parent)) continue;
        expect(entries.get(parent), parent).toMatchObject({ selectable: false, hasChildren: true });
        expect(await codeOf(b.open(parent))).toBe('NONEXISTENT');
      }
    });

    it('answers STATUS as the snapshot of an opened mailbox shows it', async () => {
      for (const [mailbox, msgs] of h.expected) {
        const st = await b.status(mailbox);
        const snap = (await openBox(mailbox)).current();
        expect(st.messages).toBe(msgs.length);
        expect([...snap.uids]).toEqual(msgs.map((m) => m.uid));
        expect(snap.uidValidity).toBe(st.uidValidity);
        expect(Number.isInteger(st.uidValidity) && st.uidValidity > 0).toBe(true);
        expect(snap.uidNext).toBe(st.uidNext);
        expect(st.uidNext).toBeGreaterThan(msgs.length === 0 ? 0 : msgs[msgs.length - 1]!.uid);
        if (st.size !== undefined) expect(st.size).toBe(msgs.reduce((n, m) => n + m.bytes.length, 0));
      }
      expect((await b.status('INBOX')).messages).toBe(0);
      expect((await openBox('INBOX')).current().uids.length).toBe(0);
    });

    it('refuses an unknown mailbox with NONEXISTENT', async () => {
      expect(await codeOf(b.status('no.such.mailbox'))).toBe('NONEXISTENT');
      expect(await codeOf(b.open('no.such.mailbox'))).toBe('NONEXISTENT');
    });

    it('gives the same UIDs and UIDVALIDITY to every opening', async () => {
      for (const [mailbox] of full) {
        const [x, y] = [await openBox(mailbox), await openBox(mailbox)];
        expect(x.name).toBe(mailbox);
        expect([x.current().uidValidity, [...x.current().uids]]).toEqual([y.current().uidValidity, [...y.current().uids]]);
      }
    });

    it('yields meta in the order asked, skipping absent UIDs, with exact sizes and the header block', async () => {
      for (const [mailbox, msgs] of full) {
        const handle = await openBox(mailbox);
        const absent = msgs[msgs.length - 1]!.uid + 1000;
        const asked = [...msgs.map((m) => m.uid)].reverse();
        asked.splice(1, 0, absent);
        const metas = await collect(handle.meta(asked));
        expect(metas.map((m) => m.uid)).toEqual(asked.filter((u) => u !== absent));
        for (const meta of metas) {
          const m = msgs.find((x) => x.uid === meta.uid)!;
          expect(meta.size, `${mailbox} ${m.uid}`).toBe(m.bytes.length);
          expect(meta.header.equals(m.bytes.subarray(0, headerEnd(m.bytes))), `${mailbox} ${m.uid}`).toBe(true);
          expect(meta.envelope.subject?.toString('latin1')).toBe(m.subject);
          expect(Number.isNaN(meta.internalDate.getTime())).toBe(false);
        }
      }
    });

    it('serves content and byte ranges exactly', async () => {
      for (const [mailbox, msgs] of full) {
        const handle = await openBox(mailbox);
        for (const m of msgs) {
          expect((await readAll(await handle.content(m.uid))).equals(m.bytes), `${mailbox} ${m.uid}`).toBe(true);
          const len = m.bytes.length;
          for (const [start, end] of [[0, Math.min(10, len)], [Math.floor(len / 2), Math.floor(len / 2) + 7], [Math.max(0, len - 5), len]] as const) {
            expect((await readAll(await handle.content(m.uid, { start, end }))).equals(m.bytes.subarray(start, end))).toBe(true);
          }
        }
      }
    });

    it('gives the MIME structure of each message', async () => {
      for (const [mailbox, msgs] of full) {
        const handle = await openBox(mailbox);
        for (const m of msgs) expect(await handle.structure(m.uid)).toEqual(parseStructure(m.bytes));
      }
    });

    it('plans reads: batches in order with meta, skipping absent UIDs, even with content and structure asked for', async () => {
      for (const [mailbox, msgs] of full) {
        const handle = await openBox(mailbox);
        const uids = [...msgs.map((m) => m.uid), msgs[msgs.length - 1]!.uid + 1000];
        const seen: number[] = [];
        for await (const batch of handle.read(uids, { meta: true, content: true, structure: true })) {
          expect(batch.uids).toEqual(uids.slice(batch.from, batch.from + batch.uids.length));
          for (const u of batch.uids) if (batch.metas!.has(u)) seen.push(u);
        }
        expect(seen).toEqual(msgs.map((m) => m.uid));
        for (const m of msgs) expect((await readAll(await handle.content(m.uid))).equals(m.bytes)).toBe(true);
      }
    });

    it('refuses content and structure of an absent UID with NONEXISTENT', async () => {
      const [mailbox, msgs] = full[0]!;
      const handle = await openBox(mailbox);
      const absent = msgs[msgs.length - 1]!.uid + 1000;
      expect(await codeOf(handle.content(absent))).toBe('NONEXISTENT');
      expect(await codeOf(handle.structure(absent))).toBe('NONEXISTENT');
    });

    it('shows a new article on refresh under a new UID, tells listeners, and keeps the old UIDs', async () => {
      if (h.add === undefined) return;
      const [mailbox, msgs] = full[0]!;
      const handle = await openBox(mailbox);
      const before = handle.current();
      const heard: MailboxSnapshot[] = [];
      const off = handle.onChange((s) => heard.push(s));
      const article = fixtureArticle(`added-${process.pid}-${Date.now()}`, ++addSerial, [mailbox], 'added later', 'new\r\n');
      const bytes = await h.add(mailbox, article);
      const after = await handle.refresh();
      off();
      const fresh = [...after.uids].filter((u) => !before.uids.includes(u));
      expect(fresh).toHaveLength(1);
      expect(fresh[0]!).toBeGreaterThanOrEqual(before.uidNext);
      expect(after.uidNext).toBeGreaterThan(fresh[0]!);
      expect(after.uidValidity).toBe(before.uidValidity);
      expect(handle.current().uids).toEqual(after.uids);
      expect(heard.length).toBeGreaterThan(0);
      expect(heard[heard.length - 1]!.uids).toEqual(after.uids);
      expect((await readAll(await handle.content(fresh[0]!))).equals(bytes)).toBe(true);
      for (const m of msgs) expect((await readAll(await handle.content(m.uid))).equals(m.bytes)).toBe(true);
    });
  });
}
