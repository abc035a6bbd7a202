/**
 * What every connection of one server shares: the backend, the user database,
 * the flag-store factory, TLS material and options. Built once by the server.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Backend } from '../export/interface.js';
import type { FlagStore } from '../stateagent/flagstore.js';
import type { RenderCache } from './render/cache.js';

export interface Authenticator {
  /**
   * True when the password is right, false when not. Must not reveal whether
   * the user exists. `source` is the session's `sourceKey` (undefined: exempt
   * or unknown), for limits across connections; an authenticator that limits
   * may refuse without checking the password (`LoginRefusal`).
   */
  verify(user: string, password: string, source?: string): Promise<boolean | LoginRefusal>;
}

/**
 * A login refused without checking the password: `throttled` after too many
 * recent failures for the user or the source, `busy` when too many checks wait.
 */
export interface LoginRefusal {
  refused: 'throttled' | 'busy';
}

export interface ServerOptions {
  /** Allow LOGIN anonymous / AUTHENTICATE ANONYMOUS (RFC 4505). */
  anonymous: boolean;
  /** Allow plaintext LOGIN/AUTHENTICATE PLAIN without TLS (true on loopback deployments). */
  allowPlaintextAuth: boolean;
  /** Shared-namespace prefix for groups ('' puts them in the personal namespace). */
  namespacePrefix: string;
  /** Idle autologout (ms); ≥ 30 minutes per RFC 9051 §5.4. */
  idleTimeoutMs: number;
  /** Delay before answering a failed login (ms). */
  loginFailureDelayMs: number;
  /** Offer COMPRESS=DEFLATE (RFC 4978). */
  compress: boolean;
  /**
   * Flags are kept by a persistent store (local LMDB or state agent): offer
   * CONDSTORE, QRESYNC and ACL, and PERMANENTFLAGS with \*.
   */
  persistentFlags: boolean;
  /** Marking an article \Seen marks its crossposts in other groups \Seen too. */
  crosspostSeen: boolean;
  /**
   * The backend keeps a search index (mailbox handles offer `search`): offer SORT,
   * SORT=DISPLAY, ESORT and THREAD (RFC 5256, 5957, 5267). Default false.
   */
  sortThread?: boolean;
}

/** A PEM certificate chain and key, and the context built from them once. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  context: SecureContext;
}

export function tlsMaterial(cert: Buffer, key: Buffer): TlsMaterial {
  return { cert, key, context: createSecureContext({ cert, key }) };
}

export interface ServerContext {
  readonly backend: Backend;
  readonly auth: Authenticator;
  /** The flag store for a user's session (session-only, local or remote). */
  flagStoreFor(user: string): FlagStore;
  /** Certificate for STARTTLS and the implicit-TLS listener, when configured. */
  readonly tls: TlsMaterial | undefined;
  readonly options: ServerOptions;
  /** Rendered ENVELOPE/BODYSTRUCTURE bytes shared by all sessions. */
  readonly renderCache: RenderCache;
}
