/**
 * A fixed-data Backend for IMAP-layer tests: mailboxes hold articles given as
 * Buffers; UIDs are given explicitly. Named a fixture, not the real export
 * layer (which is tested over INN and the archive source).
 */
import { Readable } from 'node:stream';
import type {
  Backend, MailboxEntry, MailboxHandle, MailboxSnapshot, MessageBatch, MessageMeta, ReadNeeds, StatusData, ByteRange,
} from '../../src/export/interface.js';
import { BackendError } from '../../src/export/interface.js';
import { headerEnd, parseHeader } from '../../src/mime/header.js';
import { envelopeOf } from '../../src/mime/envelope.js';
import { parseStructure } from '../../src/mime/structure.js';
import type { MimePart } from '../../src/mime/part.js';

export interface FixtureMailbox {
  uidValidity: number;
  articles: Map<number, Buffer>;
}

export class FixtureBackend implements Backend {
  readonly boxes = new Map<string, FixtureMailbox>();
  private readonly listeners = new Map<string, Set<(s: MailboxSnapshot) => void>>();
  contentCalls = 0;
  /** What each `read` was asked for (FETCH and SEARCH say what they need). */
  readonly readCalls: ReadNeeds[] = [];
  /** UIDs per batch `read` yields (default: one batch of everything). */
  readBatch = Infinity;

  add(name: string, uid: number, article: Buffer): void {
    let box = this.boxes.get(name);
    if (!box) this.boxes.set(name, (box = { uidValidity: 1000, articles: new Map() }));
    box.articles.set(uid, article);
    for (const l of this.listeners.get(name) ?? []) l(this.snapshot(name));
  }

  expire(name: string, uid: number): void {
    this.boxes.get(name)!.articles.delete(uid);
    for (const l of this.listeners.get(name) ?? []) l(this.snapshot(name));
  }

  private snapshot(name: string): MailboxSnapshot {
    const box = this.boxes.get(name);
    if (!box) return { uidValidity: 1, uidNext: 1, uids: new Uint32Array() };
    const uids = Uint32Array.from([...box.articles.keys()].sort((a, b) => a - b));
    return { uidValidity: box.uidValidity, uidNext: (uids[uids.length - 1] ?? 0) + 1, uids };
  }

  async mailboxes(): Promise<MailboxEntry[]> {
    const names = new Set(['INBOX', ...this.boxes.keys()]);
    const out: MailboxEntry[] = [];
    const parents = new Set<string>();
    for (const n of names) {
      const parts = n.split('.');
      for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join('.'));
    }
    for (const n of new Set([...names, ...parents])) {
      out.push({ name: n, selectable: names.has(n), hasChildren: [...names].some((m) => m.startsWith(n + '.')) });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async status(name: string): Promise<StatusData> {
    if (name !== 'INBOX' && !this.boxes.has(name)) throw new BackendError('NONEXISTENT', name);
    const s = this.snapshot(name);
    return { messages: s.uids.length, uidNext: s.uidNext, uidValidity: s.uidValidity };
  }

  async open(name: string): Promise<MailboxHandle> {
    if (name !== 'INBOX' && !this.boxes.has(name)) throw new BackendError('NONEXISTENT', name);
    let current = this.snapshot(name);
    const mine = new Set<(s: MailboxSnapshot) => void>();
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    const relay = (s: MailboxSnapshot): void => {
      current = s;
      for (const l of mine) l(s);
    };
    set.add(relay);
    const article = (uid: number): Buffer => {
      const a = this.boxes.get(name)?.articles.get(uid);
      if (!a) throw new BackendError('NONEXISTENT', `uid ${uid}`);
      return a;
    };
    const self = this;
    async function* meta(uids: readonly number[]): AsyncIterable<MessageMeta> {
      for (const uid of uids) {
        const a = self.boxes.get(name)?.articles.get(uid);
        if (!a) continue;
        const end = headerEnd(a);
        const header = end < 0 ? a : a.subarray(0, end);
        yield { uid, size: a.length, internalDate: new Date(Date.UTC(2024, 0, 1)), header, envelope: envelopeOf(parseHeader(header)) };
      }
    }
    return {
      name,
      current: () => current,
      onChange(fn) {
        mine.add(fn);
        return () => mine.delete(fn);
      },
      refresh: async () => current,
      release: () => set!.delete(relay),
      meta,
      // batches of `readBatch` (default one of everything): planning is the real backend's business
      async *read(all: readonly number[], needs: ReadNeeds): AsyncIterable<MessageBatch> {
        if (all.length === 0) return;
        self.readCalls.push(needs);
        for (let from = 0; from < all.length; from += self.readBatch) {
          const uids = all.slice(from, from + self.readBatch);
          let metas: Map<number, MessageMeta> | undefined;
          if (needs.meta) {
            metas = new Map();
            for await (const m of meta(uids)) metas.set(m.uid, m);
          }
          yield { from, uids, metas, failed: 0 };
        }
      },
      async structure(uid: number): Promise<MimePart> {
        return parseStructure(article(uid));
      },
      async content(uid: number, range?: ByteRange): Promise<Readable> {
        self.contentCalls++;
        const a = article(uid);
        return Readable.from([range ? a.subarray(range.start, range.end) : a]);
      },
    };
  }
}
