/**
 * `Source` over a directory of mboxrd files, one file per group.
 *
 * Layout: `<dir>/comp.lang.misc` or `<dir>/comp.lang.misc.mbox` or
 * `<dir>/comp/lang/misc.mbox` all hold group `comp.lang.misc` (nested
 * directories are hierarchy levels). Hidden entries (`.name`) are skipped. When
 * two files name the same group, the first in sorted path order wins and the
 * other is logged and ignored. Symbolic links are followed only inside the
 * archive root, and directory loops are cut (rules in ./walk.ts).
 *
 * Article number = 1-based position of the message in its file; numbers never
 * change while the file is only appended to (see ./index-file.ts). Article
 * bytes: mboxrd quoting undone by one level, CRLF line ends (./unquote.ts).
 * The overview's Message-ID is the key the UID map knows the article by:
 * distinct for every message of a file, even two sharing a Message-ID or two
 * identical ones without one (a synthetic key, see ./keys.ts), and stable
 * while the file is only appended to.
 *
 * Errors (`SourceError`): a file that is not mboxrd, or unreadable ⇒
 * INVALID_ARCHIVE; an unknown group ⇒ NO_SUCH_GROUP; a number outside the file
 * ⇒ NO_SUCH_ARTICLE; after `close()` ⇒ UNAVAILABLE. `listGroups` skips (and
 * logs) invalid files instead of failing, so one bad file never hides the
 * others. Streams returned by `article()` belong to the caller, who reads them
 * to the end or destroys them; that closes the file.
 */
import { relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../../util/log.js';
import { SourceError, type GroupInfo, type OverviewRecord, type Source } from '../source.js';
import { HandleCache } from './handles.js';
import { MboxIndex, articleStream } from './index-file.js';
import { MboxFormatError, type MboxEntry } from './scan.js';
import { walkArchive } from './walk.js';

export interface ArchiveSourceOptions {
  dir: string;
  logger: Logger;
}

/**
 * An archive has no Xref header of its own; a crossposted article (Newsgroups
 * names several groups) gets an Xref-like value naming them, so the export
 * layer can share read marks across them (article numbers are not needed: the
 * UID map finds the article by Message-ID). Numbers are given as 0.
 */
function crossposted(newsgroups: string): { xref?: string } {
  const groups = newsgroups.split(/[\s,]+/).filter((g) => g !== '');
  return groups.length > 1 ? { xref: `archive ${groups.map((g) => `${g}:0`).join(' ')}` } : {};
}

export class ArchiveSource implements Source {
  readonly id: string;
  readonly dir: string;
  private readonly log: Logger;
  /** group → file path, from the last directory walk. */
  private files = new Map<string, string>();
  /** file path → its index. */
  private readonly indexes = new Map<string, MboxIndex>();
  /** Open files for article reads (bounded; see ./handles.ts). */
  private readonly handles = new HandleCache();
  private closed = false;

  constructor(opts: ArchiveSourceOptions) {
    this.dir = resolve(opts.dir);
    this.id = `archive:${this.dir}`;
    this.log = opts.logger.child({ component: 'archive', dir: this.dir });
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.assertOpen();
    await this.walk();
    const out: GroupInfo[] = [];
    for (const [name, path] of this.files) {
      try {
        const idx = await this.refreshed(name, path);
        out.push(info(name, idx.count));
      } catch (err) {
        this.log.warn({ group: name, path, err: (err as Error).message }, 'archive: group skipped');
      }
    }
    return out;
  }

  async groupInfo(group: string): Promise<GroupInfo> {
    const idx = await this.index(group);
    return info(group, idx.count);
  }

  async articleNumbers(group: string, low: number, high: number): Promise<number[]> {
    const idx = await this.index(group);
    const out: number[] = [];
    for (let n = Math.max(1, Math.ceil(low)); n <= Math.min(high, idx.count); n++) out.push(n);
    return out;
  }

  async *overview(group: string, low: number, high: number): AsyncIterable<OverviewRecord> {
    const idx = await this.index(group);
    const hi = Math.min(high, idx.count);
    for (let n = Math.max(1, Math.ceil(low)); n <= hi; n++) {
      const e = idx.entry(n)!;
      yield {
        number: n,
        subject: e.subject,
        from: e.from,
        date: e.date,
        messageId: e.messageId,
        references: e.references,
        bytes: e.size,
        lines: e.lines,
        ...crossposted(e.newsgroups),
      };
    }
  }

  async article(group: string, number: number): Promise<Readable> {
    const { path, e } = await this.locate(group, number);
    try {
      return await articleStream(this.handles, path, e);
    } catch (err) {
      throw this.wrap(err, group, path);
    }
  }

  async head(group: string, number: number): Promise<Buffer> {
    const { path, e } = await this.locate(group, number);
    const parts: Buffer[] = [];
    try {
      for await (const c of await articleStream(this.handles, path, e, e.headerEnd < 0 ? e.end : e.headerEnd)) parts.push(c as Buffer);
    } catch (err) {
      throw this.wrap(err, group, path);
    }
    if (e.headerEnd < 0) parts.push(Buffer.from('\r\n'));
    return Buffer.concat(parts);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.handles.close();
    this.indexes.clear();
    this.files.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new SourceError('UNAVAILABLE', `${this.id}: source is closed`);
  }

  /**
   * Article numbers already indexed keep their byte range while the file is only
   * appended to, so an indexed number is served without a `stat`; a number past
   * the end refreshes the index first (it may just have been appended). A file
   * rewritten in place is noticed by the next groupInfo/listGroups/overview.
   */
  private async locate(group: string, number: number): Promise<{ path: string; e: MboxEntry }> {
    this.assertOpen();
    const path = this.files.get(group);
    const known = path !== undefined ? this.indexes.get(path) : undefined;
    const hit = known?.entry(number);
    if (hit !== undefined && known !== undefined) return { path: known.path, e: hit };
    const idx = await this.index(group);
    const e = idx.entry(number);
    if (e === undefined) throw new SourceError('NO_SUCH_ARTICLE', `${group}: no article ${number}`);
    return { path: idx.path, e };
  }

  /** The refreshed index of a group; walks the directory again when the group is not known yet. */
  private async index(group: string): Promise<MboxIndex> {
    this.assertOpen();
    let path = this.files.get(group);
    if (path === undefined) {
      await this.walk();
      path = this.files.get(group);
    }
    if (path === undefined) throw new SourceError('NO_SUCH_GROUP', `${group}: no such group in ${this.dir}`);
    return this.refreshed(group, path);
  }

  private async refreshed(group: string, path: string): Promise<MboxIndex> {
    let idx = this.indexes.get(path);
    if (idx === undefined) {
      idx = new MboxIndex(path, this.handles);
      this.indexes.set(path, idx);
    }
    try {
      await idx.refresh();
    } catch (err) {
      throw this.wrap(err, group, path);
    }
    return idx;
  }

  private wrap(err: unknown, group: string, path: string): SourceError {
    if (err instanceof SourceError) return err;
    const rel = relative(this.dir, path);
    if (err instanceof MboxFormatError) return new SourceError('INVALID_ARCHIVE', `${rel}: ${err.message}`, { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      this.files.delete(group);
      this.indexes.delete(path);
      this.handles.forget(path);
      return new SourceError('NO_SUCH_GROUP', `${group}: ${rel} is gone`, { cause: err });
    }
    return new SourceError('INVALID_ARCHIVE', `${rel}: ${code ?? (err as Error).message}`, { cause: err });
  }

  /** Re-read the directory tree into `files` (./walk.ts). A missing or unreadable root is INVALID_ARCHIVE. */
  private async walk(): Promise<void> {
    const found = await walkArchive(this.dir, this.log);
    this.files = found;
    const live = new Set(found.values());
    for (const path of [...this.indexes.keys()]) {
      if (!live.has(path)) {
        this.indexes.delete(path);
        this.handles.forget(path);
      }
    }
  }
}

function info(name: string, count: number): GroupInfo {
  return { name, count, low: 1, high: count, status: 'n' };
}
