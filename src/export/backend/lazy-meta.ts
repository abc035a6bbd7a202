/** The MessageMetas the reader hands out (reader.ts). */
import { ENVELOPE_FIELDS, envelopeOf, parseHeader, type Envelope } from '../../mime/index.js';
import type { MessageMeta } from '../interface.js';
import { internalDateOf } from './dates.js';
import { prefixedKey, type HeaderEntry, type MetaStore } from './meta-store.js';

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
