/** The MessageMeta the reader hands out (reader.ts). */
import type { Envelope } from '../../mime/index.js';
import type { MessageMeta } from '../interface.js';
import type { HeaderEntry } from './meta-store.js';

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
