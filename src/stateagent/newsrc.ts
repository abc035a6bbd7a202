/**
 * The `.newsrc` format (news(5)/newsrc(5) of B News, kept by rn, trn, tin,
 * slrn): one line per group, `group: 1-78,80,85-90` for a subscribed group
 * and `group! 1-5` for an unsubscribed one; the ranges are the articles read.
 * An `options` line (and lines beginning with white space after it) carries
 * reader options and is skipped. Readers differ in the space after `:`/`!`,
 * may leave the ranges empty, and some write article `0` (`0`, `1-0`,
 * `0-12`), which is dropped; all are accepted. The same rules as the agent's UID sets hold otherwise (one rule,
 * docs/agent-api.md): a range that ends before it starts (`3-1`) is refused,
 * and so is a group given on two lines — a file is taken whole or not at all,
 * with an error naming the line.
 *
 * In newsfront a UID is the article number at first sight (DESIGN invariant
 * 2), so read ranges map 1:1 to `\Seen` UID ranges.
 */
import { FlagStoreError } from './flagstore.js';
import { formatRuns, type Run } from '../util/rangeset.js';
import { checkMailbox, parseRanges } from './validate.js';
import { MAX_NEWSRC_GROUPS, MAX_NEWSRC_RANGES } from './limits.js';

export interface NewsrcGroup {
  group: string;
  subscribed: boolean;
  /** Articles read (normalized runs). */
  read: Run[];
}

/**
 * The groups of a `.newsrc`, one by one, so a caller can pause between them
 * (the agent's import yields to other requests). Throws
 * `FlagStoreError('INVALID')` naming the first bad line (1-based), or beyond
 * MAX_NEWSRC_GROUPS groups or MAX_NEWSRC_RANGES ranges in all (limits.ts).
 */
export function* newsrcGroups(text: string): Generator<NewsrcGroup> {
  /** Group → the line it was given on (a Map: group names like `__proto__` are plain keys). */
  const seen = new Map<string, number>();
  let groups = 0;
  let ranges = 0;
  let inOptions = false;
  let lineNo = 0;
  for (let at = 0; at < text.length;) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const line = text.slice(at, end > at && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    at = end + 1;
    lineNo++;
    if (/^options(\s|$)/.test(line)) {
      inOptions = true;
      continue;
    }
    if (inOptions && /^[ \t]/.test(line)) continue;
    inOptions = false;
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^([^\s:!]+)\s*([:!])\s*(.*?)\s*$/.exec(line);
    if (!m) throw new FlagStoreError('INVALID', `newsrc line ${lineNo}: expected "group: ranges" or "group! ranges"`);
    const group = m[1]!;
    let read: Run[];
    try {
      checkMailbox(group);
      const first = seen.get(group);
      if (first !== undefined) throw new FlagStoreError('INVALID', `group ${group} is already on line ${first}`);
      read = parseRanges(m[3]!, { newsrc: true });
      seen.set(group, lineNo);
      if (++groups > MAX_NEWSRC_GROUPS) throw new FlagStoreError('INVALID', `more than ${MAX_NEWSRC_GROUPS} groups`);
      ranges += read.length;
      if (ranges > MAX_NEWSRC_RANGES) throw new FlagStoreError('INVALID', `more than ${MAX_NEWSRC_RANGES} ranges in all`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new FlagStoreError('INVALID', `newsrc line ${lineNo}: ${msg}`, { cause: err });
    }
    yield { group, subscribed: m[2] === ':', read };
  }
}

/** Parse a whole `.newsrc` at once (errors as `newsrcGroups`). */
export function parseNewsrc(text: string): NewsrcGroup[] {
  return [...newsrcGroups(text)];
}

/** Write groups as `.newsrc` lines (`group: 1-5,7`, `group!` when unsubscribed and nothing read). */
export function formatNewsrc(groups: readonly NewsrcGroup[]): string {
  let out = '';
  for (const g of groups) {
    const r = formatRuns(g.read);
    out += `${g.group}${g.subscribed ? ':' : '!'}${r === '' ? '' : ` ${r}`}\n`;
  }
  return out;
}
