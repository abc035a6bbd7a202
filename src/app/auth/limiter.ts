/**
 * Failed-login limits across connections (RFC 9051 §11.3): a token bucket per
 * source (IPv4 address / IPv6 /64, as the IMAP layer keys it) and one per user
 * name. Each bucket holds `failuresPer…` tokens and refills evenly over
 * `failureWindowMs`; an attempt takes a token from both before the password
 * is checked (so concurrent guesses are counted too), a success gives them
 * back, a failure keeps them spent. An attempt finding either bucket empty is
 * throttled: refused without a check.
 *
 * A (user, source) pair that logged in successfully lately is *known*: its
 * attempts skip the user's bucket, so guessing at a name from elsewhere does
 * not lock its owner out of the places they log in from (the source bucket
 * still applies). Attempts are ranked for the password-check queue: known
 * pairs first, then attempts whose buckets were untouched, then the rest.
 *
 * Memory is bounded: at most `maxEntries` buckets and as many known pairs
 * (least recently used dropped); a bucket given back full is forgotten.
 */
import { createHash } from 'node:crypto';
import { ByteLru } from '../../util/lru.js';
import {
  KNOWN_SOURCE_TTL_MS, LOGIN_FAILURES_PER_ADDRESS, LOGIN_FAILURES_PER_USER, LOGIN_FAILURE_WINDOW_MS,
  LOGIN_LIMITER_ENTRIES,
} from '../../imap/limits.js';

export interface LoginLimits {
  /** Failures allowed per source before it is throttled (bucket size). */
  failuresPerAddress: number;
  /** Failures allowed per user name before it is throttled (bucket size). */
  failuresPerUser: number;
  /** Time for an empty bucket to refill completely (ms). */
  failureWindowMs: number;
  /** How long a (user, source) pair stays known after a success (ms). */
  knownSourceTtlMs?: number;
  /** Buckets (and known pairs) kept at most. */
  maxEntries?: number;
}

export const DEFAULT_LOGIN_LIMITS: Readonly<LoginLimits> = Object.freeze({
  failuresPerAddress: LOGIN_FAILURES_PER_ADDRESS,
  failuresPerUser: LOGIN_FAILURES_PER_USER,
  failureWindowMs: LOGIN_FAILURE_WINDOW_MS,
});

/** Rank in the password-check queue: 0 known pair, 1 clean, 2 suspect. */
export type Rank = 0 | 1 | 2;

/** One admitted attempt; exactly one of the three ends must be called. */
export interface LoginAttempt {
  readonly rank: Rank;
  /** The password was right: tokens back, the pair becomes known. */
  succeeded(): void;
  /** The password was wrong: the tokens stay spent. */
  failed(): void;
  /** The password was not checked (e.g. no room in the queue): tokens back. */
  cancelled(): void;
}

interface Bucket {
  /** Tokens at time `at`. */
  tokens: number;
  at: number;
}

/** Long names are hashed: the key must not let a 64 KiB user name cost 64 KiB per entry. */
const userKey = (user: string): string =>
  user.length <= 128 ? `u ${user}` : `u# ${createHash('sha256').update(user).digest('base64')}`;

export class LoginLimiter {
  private readonly buckets: ByteLru<string, Bucket>;
  /** `user NUL source` → expiry time. */
  private readonly known: ByteLru<string, number>;
  private readonly limits: Required<LoginLimits>;

  constructor(limits: LoginLimits = DEFAULT_LOGIN_LIMITS, private readonly now: () => number = Date.now) {
    this.limits = { knownSourceTtlMs: KNOWN_SOURCE_TTL_MS, maxEntries: LOGIN_LIMITER_ENTRIES, ...limits };
    this.buckets = new ByteLru(this.limits.maxEntries);
    this.known = new ByteLru(this.limits.maxEntries);
  }

  /** Buckets currently remembered (for tests and stats). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Start an attempt by `user` from `source` (undefined: exempt from the
   * source limit). Undefined when throttled: do not check the password.
   */
  begin(user: string, source: string | undefined): LoginAttempt | undefined {
    const t = this.now();
    const pair = source === undefined ? undefined : `${userKey(user)}\0${source}`;
    const expiry = pair === undefined ? undefined : this.known.get(pair);
    const isKnown = expiry !== undefined && expiry > t;
    const keys: Array<[string, number]> = [];
    if (source !== undefined) keys.push([`a ${source}`, this.limits.failuresPerAddress]);
    if (!isKnown) keys.push([userKey(user), this.limits.failuresPerUser]);
    const levels = keys.map(([k, size]) => this.level(k, size, t));
    if (levels.some((l) => l < 1)) return undefined;
    const clean = levels.every((l, i) => l >= keys[i]![1]);
    keys.forEach(([k], i) => this.buckets.set(k, { tokens: levels[i]! - 1, at: t }, 1));
    let open = true;
    const giveBack = (): void => {
      const t2 = this.now();
      for (const [k, size] of keys) {
        const l = this.level(k, size, t2) + 1;
        if (l >= size) this.buckets.delete(k);
        else this.buckets.set(k, { tokens: l, at: t2 }, 1);
      }
    };
    const end = (fn: () => void) => (): void => {
      if (!open) return;
      open = false;
      fn();
    };
    return {
      rank: isKnown ? 0 : clean ? 1 : 2,
      succeeded: end(() => {
        giveBack();
        if (pair !== undefined) this.known.set(pair, this.now() + this.limits.knownSourceTtlMs, 1);
      }),
      failed: end(() => undefined),
      cancelled: end(giveBack),
    };
  }

  /** Tokens in bucket `key` at time `t` (a full `size` when not remembered). */
  private level(key: string, size: number, t: number): number {
    const b = this.buckets.peek(key);
    if (!b) return size;
    return Math.min(size, b.tokens + (Math.max(0, t - b.at) * size) / this.limits.failureWindowMs);
  }
}
