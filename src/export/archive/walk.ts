/**
 * The directory walk of an archive: the tree below the root → group name → file.
 *
 * Names: `<dir>/comp.lang.misc`, `<dir>/comp.lang.misc.mbox` and
 * `<dir>/comp/lang/misc.mbox` all hold group `comp.lang.misc`. Hidden entries
 * (`.name`), directories whose name is not a group-name component and files
 * whose name does not make a group name are skipped (the latter logged). When
 * two files name the same group, the first in sorted path order wins and the
 * other is logged and ignored.
 *
 * Symbolic links (README.md, "Archive format"):
 * - a link is followed only when what it finally resolves to (`realpath`, so
 *   through any chain of links) is inside the archive root; one leading outside,
 *   dangling or looping on itself is skipped (outside: logged);
 * - a followed link stands for its target under the link's own name, so a link
 *   can give a file or a directory a second group name; the path recorded is
 *   the target's path below the root, free of links;
 * - a directory is never entered below itself: the device and inode of every
 *   directory on the way down are kept, and a directory met again on that way
 *   (`ln -s . self`, `sub/up -> ..`) is skipped and logged. Loops add no group,
 *   and MAX_ARCHIVE_DEPTH bounds the rest.
 *
 * Errors: a missing or unreadable root, or one that is not a directory, is
 * `SourceError` INVALID_ARCHIVE; anything below the root is skipped, never fatal.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Logger } from '../../util/log.js';
import { SourceError } from '../source.js';

/** Directory nesting followed below the archive root; deeper trees are cut off here. */
export const MAX_ARCHIVE_DEPTH = 16;
/** Suffix stripped from file names to get the group's last component. */
export const MBOX_SUFFIX = '.mbox';

/** A group name component: no white space, control characters or wildmat specials (RFC 3977 §4.1, §4.2). */
// eslint-disable-next-line no-control-regex
const COMPONENT = /^[^\s\x00-\x1f\x7f*?,![\]\\]+$/;

/** Group name → path of its file (below `root`). */
export async function walkArchive(root: string, log: Logger): Promise<Map<string, string>> {
  let rootReal: string;
  let id: string;
  try {
    rootReal = await realpath(root);
    const st = await stat(rootReal);
    if (!st.isDirectory()) throw new Error('not a directory');
    id = `${st.dev}:${st.ino}`;
  } catch (err) {
    throw new SourceError('INVALID_ARCHIVE', `${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const w = new Walk(root, rootReal, log);
  await w.dir(root, [], 0, new Set([id]));
  return w.found;
}

class Walk {
  readonly found = new Map<string, string>();

  constructor(
    private readonly root: string,
    private readonly rootReal: string,
    private readonly log: Logger,
  ) {}

  /** Walk directory `path` (group prefix `prefix`); `above` holds the device:inode of it and of every directory above it. */
  async dir(path: string, prefix: string[], depth: number, above: Set<string>): Promise<void> {
    if (depth > MAX_ARCHIVE_DEPTH) {
      this.log.warn({ dir: this.rel(path) }, 'archive: directory nesting too deep, skipped');
      return;
    }
    let entries;
    try {
      entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      this.log.warn({ dir: this.rel(path), err: (err as Error).message }, 'archive: directory unreadable, skipped');
      return;
    }
    for (const ent of entries) {
      const name = ent.name;
      if (name.startsWith('.')) continue;
      const entry = join(path, name);
      const p = ent.isSymbolicLink() ? await this.target(entry) : entry;
      if (p === undefined) continue;
      let st;
      try {
        st = await stat(p);
      } catch {
        continue; // vanished
      }
      if (st.isDirectory()) {
        if (!COMPONENT.test(name)) continue;
        const id = `${st.dev}:${st.ino}`;
        if (above.has(id)) {
          this.log.warn({ path: this.rel(entry) }, 'archive: directory loop (a directory inside itself), skipped');
          continue;
        }
        above.add(id);
        await this.dir(p, [...prefix, name], depth + 1, above);
        above.delete(id);
      } else if (st.isFile()) {
        this.file(entry, p, [...prefix, name.endsWith(MBOX_SUFFIX) ? name.slice(0, -MBOX_SUFFIX.length) : name]);
      }
    }
  }

  /** The link-free path below the root of what link `link` resolves to, or undefined when it leads outside (or nowhere). */
  private async target(link: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await realpath(link);
    } catch {
      return undefined; // dangling, or a loop of links
    }
    const rel = relative(this.rootReal, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      this.log.warn({ path: this.rel(link) }, 'archive: link leads outside the archive, skipped');
      return undefined;
    }
    return join(this.root, rel);
  }

  /** Record file `path` (reached as `entry`) for the group named by `components`. */
  private file(entry: string, path: string, components: string[]): void {
    const group = components.join('.');
    if (!group.split('.').every((c) => COMPONENT.test(c))) {
      this.log.warn({ path: this.rel(entry) }, 'archive: file name is not a group name, skipped');
      return;
    }
    const prev = this.found.get(group);
    if (prev !== undefined) {
      this.log.warn({ group, kept: this.rel(prev), ignored: this.rel(entry) }, 'archive: two files for one group');
      return;
    }
    this.found.set(group, path);
  }

  private rel(path: string): string {
    return relative(this.root, path);
  }
}
