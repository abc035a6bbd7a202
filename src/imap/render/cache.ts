/**
 * Rendered ENVELOPE and BODYSTRUCTURE bytes, kept so that warm listings do not
 * render the same article again for every session and every FETCH.
 *
 * - Envelopes: in the message meta's `derived` slot when the backend has one
 *   (the backend's header cache keeps it while the header is hot), else keyed
 *   by the header Buffer in a WeakMap: no bound needed either way, it goes
 *   when the backend drops the header. The
 *   Envelope object itself is not kept: parsed, rendered, dropped (a retained
 *   tree of ~15 objects per article made every major GC of a big listing slower).
 * - Body structures: the backend may hand out a fresh object each time, so
 *   they are keyed by (mailbox, UIDVALIDITY, UID, form) in an LRU bounded by bytes.
 * Rendering depends on UTF8=ACCEPT (quoted UTF-8 vs literals): both forms are kept apart.
 */
import type { Envelope } from '../../mime/envelope.js';
import type { Derived } from '../../export/interface.js';
import type { MimePart } from '../../mime/structure.js';
import { ByteLru } from '../../util/lru.js';
import { envelopeBytes } from './envelope.js';
import type { Chunk } from '../wire/writer.js';
import { renderBodyStructure } from './bodystructure.js';

/** Bound of the structure cache: ~200 bytes each, so about 300,000 articles. */
const STRUCTURE_CACHE_BYTES = 64 * 1024 * 1024;

function toBuffer(chunks: Chunk[]): Buffer {
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
}

const structureKey = (key: string, extended: boolean, utf8: boolean): string => `${key}\u0000${extended ? 'S' : 'B'}${utf8 ? 'u' : ''}`;

export class RenderCache {
  private readonly envelopes = [new WeakMap<Buffer, Buffer>(), new WeakMap<Buffer, Buffer>()];
  private readonly structures = new ByteLru<string, Buffer>(STRUCTURE_CACHE_BYTES);

  /**
   * `m.envelope` is read (parsed) only when the rendering is not cached. Kept in
   * `m.derived` when the backend offers it (no WeakMap lookup per article: a
   * measurable part of a cold listing), else in the WeakMap.
   */
  envelope(m: { readonly header: Buffer; readonly envelope: Envelope; readonly derived?: Derived }, utf8: boolean): Buffer {
    const d = m.derived;
    if (d !== undefined) {
      if (utf8) return (d.renderedEnvelopeUtf8 ??= envelopeBytes(m.envelope, true));
      return (d.renderedEnvelope ??= envelopeBytes(m.envelope, false));
    }
    const map = this.envelopes[utf8 ? 1 : 0]!;
    let b = map.get(m.header);
    if (!b) {
      b = envelopeBytes(m.envelope, utf8);
      map.set(m.header, b);
    }
    return b;
  }

  /** True when `structure(key, extended, utf8, …)` would answer from the cache. */
  hasStructure(key: string, extended: boolean, utf8: boolean): boolean {
    return this.structures.peek(structureKey(key, extended, utf8)) !== undefined;
  }

  /** `key` names the article (mailbox, UIDVALIDITY, UID); `load` gives its structure when not cached. */
  async structure(key: string, extended: boolean, utf8: boolean, load: () => Promise<MimePart>): Promise<Buffer> {
    const k = structureKey(key, extended, utf8);
    const hit = this.structures.get(k);
    if (hit) return hit;
    const out: Chunk[] = [];
    renderBodyStructure(await load(), out, extended, utf8);
    const b = toBuffer(out);
    this.structures.set(k, b, b.length + 64);
    return b;
  }
}
