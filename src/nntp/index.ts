/**
 * Public entry of the NNTP client layer (RFC 3977 reader commands, pipelined).
 * Other rooms import from here only; the other files are this folder's own.
 *
 * - `NntpClient`: one connection (client.ts); `NntpPool`: a few of them to one server (pool.ts);
 * - `NntpError` with a stable `code` for every failure (errors.ts);
 * - `parseNntpUrl` / `redactNntpUrl`: `nntp://` and `nntps://` server URLs (url.ts).
 */
export { NntpClient } from './client.js';
export type { ActiveEntry, ArticleHandle, GroupStatus, NntpClientOptions, OverLine, OverRecord } from './types.js';
export { NntpPool, DEFAULT_POOL_SIZE, type NntpPoolOptions, type UseMode } from './pool.js';
export { NntpError, isNntpError, type NntpErrorCode } from './errors.js';
export { parseNntpUrl, redactNntpUrl, NNTP_DEFAULT_PORT, NNTPS_DEFAULT_PORT, type NntpAddress } from './url.js';
export * as nntpLimits from './limits.js';
