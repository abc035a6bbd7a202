/** The MessageMetas the reader hands out (reader.ts), and those it can make at once (`knownMetas`). */
import { ENVELOPE_FIELDS, envelopeOf, parseHeader, type Envelope } from '../../mime/index.js';
import type { MessageMeta, MetaOptions } from '../interface.js';
import { internalDateOf } from './dates.js';
import { articlePrefix, prefixedKey, type HeaderEntry, type MetaStore } from './meta-store.js';
import { rowAfter, type ReaderDeps } from './reader-deps.js';

/**
 * A MessageMeta whose envelope is computed only if someone reads it (FLAGS and
 * RFC822.SIZE listings never do). A class with a prototype getter: a cold
 * listing makes one per article, and `Object.defineProperty` on each was a
 * measurable part of it.
 */
export class LazyMeta implements MessageMeta {
  constructor(
    readonly uid: number,
    readonly size: number,
    readonly internalDate: Date,
    private readonly entry: HeaderEntry,
  ) {}

  get header(): Buffer {
    return this.entry.header;
  }

  get envelope(): Envelope {
    return this.entry.envelope;
  }
}

const NO_HEADER = Buffer.alloc(0);

/**
 * A MessageMeta made from what the compact facts know (reader.ts `known`:
 * size, date, and that the metadata store holds the header): nothing more is
 * read until the header or envelope is asked for, so a warm listing whose
 * envelopes are rendered already reads no article record. `key` is the
 * article key (meta-store.ts `articleKey`). A header removed since the facts
 * were read (the article vanished upstream meanwhile) reads as empty.
 */
export class StoredMeta implements MessageMeta {
  private h: Buffer | undefined;

  constructor(
    readonly uid: number,
    readonly size: number,
    private readonly dateMs: number,
    private readonly meta: MetaStore,
    private readonly prefix: string,
    private readonly number: number,
  ) {}

  get internalDate(): Date {
    return internalDateOf(this.dateMs);
  }

  get header(): Buffer {
    return (this.h ??= this.meta.header(prefixedKey(this.prefix, this.number))?.header ?? NO_HEADER);
  }

  get envelope(): Envelope {
    return envelopeOf(parseHeader(this.header, ENVELOPE_FIELDS));
  }
}

/**
 * `GroupReader.known`: the metas `meta` would give of those `uids` whose size
 * and stored header the compact facts know (meta-store.ts `factsOf`): made at
 * once, with no await and no article record read; the others, in order, in
 * `rest` (for `meta`). UIDs not in the view are in neither (as `meta` skips them).
 */
export function knownMetas(d: ReaderDeps, uids: readonly number[], opts: MetaOptions = {}): { metas: Map<number, MessageMeta>; rest: number[] } {
  d.activity?.touch();
  const t = d.view();
  const metas = new Map<number, MessageMeta>();
  if (t.carrier === null) return { metas, rest: [...uids] };
  const exact = opts.exactSize ?? true;
  const overviewExact = exact && d.sizes === 'exact';
  const prefix = articlePrefix(t.carrier.id, d.group);
  const facts = d.meta.factsOf(prefix);
  const { numbers, sizes, dates } = t.table;
  const rest: number[] = [];
  let row = -1;
  for (const uid of uids) {
    row = rowAfter(t.table, uid, row);
    if (row < 0) continue;
    const number = numbers[row]!;
    const ms = dates[row]!;
    const overview = sizes[row]!;
    // as `sizeOf`: an exact overview size wins, else the size learnt before
    const size = overviewExact && overview >= 0 ? overview : facts.size(number);
    if (size < 0 || !Number.isFinite(ms) || !facts.hasHeader(number)) rest.push(uid);
    else metas.set(uid, new StoredMeta(uid, size, ms, d.meta, prefix, number));
  }
  return { metas, rest };
}
