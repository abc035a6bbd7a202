/**
 * Which source a view's article numbers belong to.
 *
 * Article numbers differ between upstreams, so a view must fetch an article
 * from the very source whose numbers it stored. A plain `Source` is one
 * carrier. A multi-upstream source (src/export/sources.ts `MultiSource`) is
 * recognised by its `withFailover` and `carriersOf` methods: every look
 * upstream runs through `withFailover`, which names the source that answered
 * (the serving carrier) and whether it is the group's primary; reads then go to
 * that source directly, never through the multi-source's own numbering. When
 * the serving carrier changes, the view re-reads the group from the new one
 * (known Message-IDs keep their UIDs in the UID map).
 */
import type { Source } from '../source.js';

export interface Carrier {
  /** Source id, recorded as the articles' location and used in cache keys. */
  id: string;
  source: Source;
  /** Whether this is the group's primary upstream (first-sight UID rule). */
  primary: boolean;
}

export interface Carriers {
  /** Runs `fn` on the group's serving carrier (failing over when the source can). */
  serve<T>(group: string, fn: (c: Carrier) => Promise<T>): Promise<T>;
  /** The carrier with this id for the group, if it still carries it (may list the groups first). */
  find(group: string, id: string): Promise<Carrier | undefined>;
}

interface FailoverSource extends Source {
  withFailover<T>(group: string, fn: (source: Source, primary: boolean) => Promise<T>): Promise<T>;
  carriersOf(group: string): Source[];
}

function isFailover(s: Source): s is FailoverSource {
  const f = s as Partial<FailoverSource>;
  return typeof f.withFailover === 'function' && typeof f.carriersOf === 'function';
}

/**
 * Carriers of `source`. For a plain source, `primaryOf(group)` (default:
 * `source.id`) names it in locations and it is always primary.
 */
export function carriersOf(source: Source, primaryOf?: (group: string) => string | undefined): Carriers {
  if (isFailover(source)) {
    return {
      serve: (group, fn) => source.withFailover(group, (s, primary) => fn({ id: s.id, source: s, primary })),
      find: async (group, id) => {
        // Right after start nothing is listed yet, so nobody carries anything.
        if (source.carriersOf(group).length === 0) await source.listGroups().catch(() => undefined);
        const carriers = source.carriersOf(group);
        const s = carriers.find((c) => c.id === id);
        return s === undefined ? undefined : { id, source: s, primary: carriers[0]!.id === id };
      },
    };
  }
  const plain = (group: string): Carrier => ({ id: primaryOf?.(group) ?? source.id, source, primary: true });
  return {
    serve: (group, fn) => fn(plain(group)),
    find: async (group, id) => {
      const c = plain(group);
      return c.id === id ? c : undefined;
    },
  };
}
