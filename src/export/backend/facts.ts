/**
 * What a warm listing needs of each article besides its rendering, kept
 * compactly: the exact size (when known) and whether the metadata store holds
 * the article's header, 5 bytes an article in chunks of CHUNK consecutive
 * article numbers of one group on one source (`prefix`, an article key
 * without its number: see meta-store.ts `articleKey`).
 *
 * Why: a listing asked the metadata store per article (a memory LRU of header
 * entries, else one LMDB read of the whole header record) for the size alone;
 * at 1M articles the LRU cannot hold the group, so every warm listing read
 * every record again and churned the LRU (issue 14). A chunk answers 1,024
 * articles from one Map lookup, and one LMDB read of 5 KB brings it back.
 *
 * Chunks are cached in a byte-bounded LRU (FACTS_MEMORY_BYTES) and saved in the
 * metadata LMDB (`facts`), written by the owner in the same event turn as, and
 * after, the article records they describe (`takeDirty`): lmdb-js makes one
 * transaction of a turn's writes, and with `noSync` a crash loses later
 * transactions first, so a saved fact never claims a record that was lost.
 * Until written, a changed chunk is kept in `dirty` (never evicted unsaved).
 */
import type { Database } from 'lmdb';
import { ByteLru } from '../../util/lru.js';

export const CHUNK_BITS = 10;
/** Article numbers per chunk. */
export const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;
/** Sizes field: no exact size known. Sizes ≥ this are not kept here (the record has them). */
const NO_SIZE = 0xffffffff;
const HAS_HEADER = 1;
/** Bytes of a saved chunk: CHUNK × u32 sizes, CHUNK × u8 flags. */
const CHUNK_BYTES = CHUNK * 5;
/** Charged per chunk in memory: its bytes, the typed-array views and the LRU node and key. */
const CHUNK_COST = CHUNK_BYTES + 400;

interface Chunk {
  readonly key: string;
  readonly bytes: Buffer;
  readonly sizes: Uint32Array;
  readonly flags: Uint8Array;
}

function chunkOf(key: string, saved: Buffer | undefined): Chunk {
  const bytes = Buffer.alloc(CHUNK_BYTES);
  if (saved !== undefined && saved.length === CHUNK_BYTES) bytes.set(saved);
  else bytes.fill(0xff, 0, CHUNK * 4);
  const sizes = new Uint32Array(bytes.buffer, bytes.byteOffset, CHUNK); // Buffer.alloc is 8-byte aligned
  const flags = bytes.subarray(CHUNK * 4);
  return { key, bytes, sizes, flags };
}

const chunkKey = (prefix: string, no: number): string => `${prefix}\u0000${no}`;

export class ArticleFacts {
  private readonly mem: ByteLru<string, Chunk>;
  /** Changed chunks not handed to LMDB yet, by key. */
  private dirty = new Map<string, Chunk>();
  /** Chunks handed to LMDB but maybe not committed (reads see them). */
  private readonly writing = new Map<string, Buffer>();

  constructor(
    private readonly db: Database<Buffer, string>,
    memoryBytes: number,
    /** Called when a chunk becomes dirty (the owner schedules `takeDirty`). */
    private readonly onDirty: () => void,
  ) {
    this.mem = new ByteLru(memoryBytes);
  }

  /** The chunk `no` of `prefix`, from memory, a pending write or LMDB (or empty). */
  private chunk(prefix: string, no: number): Chunk {
    const key = chunkKey(prefix, no);
    const hit = this.mem.get(key) ?? this.dirty.get(key);
    if (hit !== undefined) return hit;
    let saved: Buffer | undefined;
    try {
      saved = this.writing.get(key) ?? this.db.get(key);
    } catch {
      saved = undefined; // unreadable: the facts are learnt again
    }
    const c = chunkOf(key, saved);
    this.mem.set(key, c, CHUNK_COST);
    return c;
  }

  /** Facts of one group on one source, for a run of lookups (keeps the last chunk at hand). */
  of(prefix: string): GroupFacts {
    return new GroupFacts(this, prefix);
  }

  /** @internal GroupFacts' chunk loader. */
  load(prefix: string, no: number): Chunk {
    return this.chunk(prefix, no);
  }

  /** Records what the store now holds of article `number`: its exact size (if known) and whether its header. */
  note(prefix: string, number: number, size: number | undefined, header: boolean): void {
    if (!Number.isInteger(number) || number < 0) return;
    const c = this.chunk(prefix, number >>> CHUNK_BITS);
    const i = number & MASK;
    const s = size !== undefined && size >= 0 && size < NO_SIZE ? size : NO_SIZE;
    const f = header ? HAS_HEADER : 0;
    if (c.sizes[i] === s && c.flags[i] === f) return;
    c.sizes[i] = s;
    c.flags[i] = f;
    this.markDirty(c);
  }

  private markDirty(c: Chunk): void {
    if (this.dirty.size === 0) this.onDirty();
    this.dirty.set(c.key, c);
  }

  /** Writes the changed chunks (call in the same event turn as, after, the records they describe). */
  writeDirty(): void {
    if (this.dirty.size === 0) return;
    const chunks = this.dirty;
    this.dirty = new Map();
    for (const c of chunks.values()) {
      const copy = Buffer.from(c.bytes); // the chunk may change again before the write lands
      this.writing.set(c.key, copy);
      this.db
        .put(c.key, copy)
        .catch(() => undefined) // a lost chunk only costs record reads: facts are learnt again
        .finally(() => {
          if (this.writing.get(c.key) === copy) this.writing.delete(c.key);
        });
    }
  }

  clear(): void {
    this.mem.clear();
    this.dirty.clear();
    this.writing.clear();
  }
}

/** Lookups in the facts of one group (consecutive numbers mostly share a chunk). */
export class GroupFacts {
  private no = -1;
  private c: Chunk | undefined;

  constructor(
    private readonly facts: ArticleFacts,
    readonly prefix: string,
  ) {}

  private at(number: number): Chunk | undefined {
    if (!Number.isInteger(number) || number < 0) return undefined;
    const no = number >>> CHUNK_BITS;
    if (no !== this.no || this.c === undefined) {
      this.c = this.facts.load(this.prefix, no);
      this.no = no;
    }
    return this.c;
  }

  /** The exact size of article `number` if known, else -1. */
  size(number: number): number {
    const c = this.at(number);
    if (c === undefined) return -1;
    const s = c.sizes[number & MASK]!;
    return s === NO_SIZE ? -1 : s;
  }

  /** True when the metadata store holds the article's header. */
  hasHeader(number: number): boolean {
    const c = this.at(number);
    return c !== undefined && (c.flags[number & MASK]! & HAS_HEADER) !== 0;
  }
}
