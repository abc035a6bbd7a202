/**
 * NNTP server URLs: `nntp://[user:pass@]host[:port]` (plain, RFC 3977 §3.1
 * port 119) and `nntps://…` (implicit TLS, RFC 4642 §1 port 563), as the
 * configuration names upstreams. A pure leaf: the config schema validates with
 * `parseNntpUrl`, the NNTP source connects with it, logs show `redactNntpUrl`.
 */

/** NNTP default ports (RFC 3977 §3.1 uses 119; NNTP over TLS, RFC 4642 §1, uses 563). */
export const NNTP_DEFAULT_PORT = 119;
export const NNTPS_DEFAULT_PORT = 563;

/** A parsed `nntp://[user:pass@]host[:port]` or `nntps://…` URL. */
export interface NntpAddress {
  tls: boolean;
  /** Host name or address; an IPv6 literal without its brackets. */
  host: string;
  port: number;
  user?: string;
  password?: string;
}

/**
 * Parse an NNTP URL. Returns a message (no throw) when it is not one, so a
 * caller can report it where it belongs (the config schema at its key path).
 */
export function parseNntpUrl(url: string): NntpAddress | string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'expected nntp://[user:pass@]host[:port] or nntps://…';
  }
  if (u.protocol !== 'nntp:' && u.protocol !== 'nntps:') {
    return `expected nntp://[user:pass@]host[:port] or nntps://…, got scheme "${u.protocol.replace(/:$/, '')}"`;
  }
  if (u.hostname === '') return 'expected nntp://[user:pass@]host[:port]: host is missing';
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') {
    return 'expected nntp://[user:pass@]host[:port]: no path, query or fragment allowed';
  }
  const tls = u.protocol === 'nntps:';
  const port = u.port === '' ? (tls ? NNTPS_DEFAULT_PORT : NNTP_DEFAULT_PORT) : Number(u.port);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const addr: NntpAddress = { tls, host, port };
  if (u.username !== '') addr.user = decodeURIComponent(u.username);
  if (u.password !== '') addr.password = decodeURIComponent(u.password);
  return addr;
}

/** The URL with any password left out and the port made explicit, for logs and `Source.id`. */
export function redactNntpUrl(url: string): string {
  const a = parseNntpUrl(url);
  if (typeof a === 'string') return '[invalid url]';
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `${a.tls ? 'nntps' : 'nntp'}://${a.user !== undefined ? `${encodeURIComponent(a.user)}@` : ''}${host}:${a.port}`;
}
