/**
 * Which bodies the search index keeps for a group (config `index.bodies`):
 *   all      every body: the crawler (crawler.ts) fetches the ones no client read;
 *   fetched  the bodies newsfront downloads anyway (clients reading them);
 *   none     no body (BODY and TEXT scan the articles).
 * Headers are indexed for every group while the index is enabled.
 *
 * Patterns are wildmat-like: `*` any run of characters, `?` one character,
 * everything else literal. The longest matching pattern wins (so
 * `{"*": "all", "alt.binaries.*": "none"}` reads as meant, whatever the key
 * order); a group no pattern matches gets `all`.
 */
export type BodyPolicy = 'all' | 'fetched' | 'none';

export type BodyRules = Readonly<Record<string, BodyPolicy>> | readonly { readonly pattern: string; readonly bodies: BodyPolicy }[];

function matcher(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's');
}

/** The policy function for a set of rules; results are cached per group. */
export function bodyPolicy(rules: BodyRules): (group: string) => BodyPolicy {
  const list = (Array.isArray(rules) ? rules : Object.entries(rules).map(([pattern, bodies]) => ({ pattern, bodies }))) as { pattern: string; bodies: BodyPolicy }[];
  const compiled = list.map((r, i) => ({ re: matcher(r.pattern), length: r.pattern.length, order: i, bodies: r.bodies }));
  const cache = new Map<string, BodyPolicy>();
  return (group) => {
    let p = cache.get(group);
    if (p === undefined) {
      let best: (typeof compiled)[number] | undefined;
      for (const c of compiled) {
        if (c.re.test(group) && (best === undefined || c.length >= best.length)) best = c;
      }
      p = best?.bodies ?? 'all';
      if (cache.size > 10_000) cache.clear();
      cache.set(group, p);
    }
    return p;
  };
}
