/**
 * Admission: who may hold a connection, and for how long before logging in
 * (RFC 9051 §11.3; the limits and their reasons are in limits.ts).
 *
 *   S: * BYE [UNAVAILABLE] Too many connections from your address; try again later   (greeting, then close)
 *   S: * BYE [LIMIT] Too many commands before login                                   (the 21st command)
 *   S: * BYE Autologout: no login within 60 s                                         (deadline, bytes or not)
 *
 * `Admission` counts open connections in total and per source (IPv4 address
 * or IPv6 /64); the server asks it before creating a connection and releases
 * the slot when the socket closes. A source in the exempt ranges (loopback by
 * default) is counted only in the total. The pre-auth deadline and command
 * cap are per connection: the server arms the one and hands the other
 * (`preAuthCommandGuard`) to the connection.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ImapError } from './errors.js';
import type { Session } from './session.js';
import {
  IPV6_SOURCE_PREFIX, LIMIT_EXEMPT_ADDRESSES, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS,
  MAX_PRE_AUTH_COMMANDS, PRE_AUTH_DEADLINE_MS,
} from './limits.js';

export interface AdmissionLimits {
  /** Connections open at once, all sources together. */
  maxConnections: number;
  /** Connections open at once from one source (IPv4 address, IPv6 /64). */
  maxConnectionsPerAddress: number;
  /** Address ranges (`a.b.c.d/n`, `x::/n` or a bare address) counted only in the total. */
  exemptAddresses: readonly string[];
  /** Fixed time from connect to login (ms); bytes do not extend it. */
  preAuthDeadlineMs: number;
  /** Commands accepted before login. */
  maxPreAuthCommands: number;
}

export const DEFAULT_ADMISSION: Readonly<AdmissionLimits> = Object.freeze({
  maxConnections: MAX_CONNECTIONS,
  maxConnectionsPerAddress: MAX_CONNECTIONS_PER_ADDRESS,
  exemptAddresses: LIMIT_EXEMPT_ADDRESSES,
  preAuthDeadlineMs: PRE_AUTH_DEADLINE_MS,
  maxPreAuthCommands: MAX_PRE_AUTH_COMMANDS,
});

export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parse `a.b.c.d/n`, `x:y::/n` or a bare address; a message (no throw) when it is none. */
export function parseAddressRange(text: string): AddressRange | string {
  const [address = '', len, extra] = text.split('/');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (!family || extra !== undefined) return `expected an IP address or CIDR range like 192.0.2.0/24 or 2001:db8::/32, got "${text}"`;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `prefix length of "${text}" must be 0–${max}`;
  return { address, prefix, family };
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let s = address.split('%')[0]!.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || head.length + tail.length + fill !== 8) return undefined;
  const groups = [...head, ...new Array<string>(fill).fill('0'), ...tail].map((h) => parseInt(h, 16));
  return groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The key a source is counted under: an IPv4 address as is (also when it
 * arrives IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address by its /64 prefix
 * (`2001:db8:0:1::/64`), anything unparsable as given.
 */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const g = ipv6Groups(address);
  if (!g) return address;
  const keep = IPV6_SOURCE_PREFIX / 16;
  return `${g.slice(0, keep).map((x) => x.toString(16)).join(':')}::/${IPV6_SOURCE_PREFIX}`;
}

/** A slot held by one admitted connection. */
export interface Admitted {
  /** The per-source key, or undefined when the source is exempt from per-address limits. */
  readonly sourceKey: string | undefined;
  /** Give the slot back (idempotent); call when the socket closes. */
  release(): void;
}

export class Admission {
  private total = 0;
  private readonly perSource = new Map<string, number>();
  private readonly exempt = new BlockList();

  /** Throws when an exempt range does not parse (the config schema checks them first). */
  constructor(readonly limits: Readonly<AdmissionLimits> = DEFAULT_ADMISSION) {
    for (const text of limits.exemptAddresses) {
      const r = parseAddressRange(text);
      if (typeof r === 'string') throw new Error(r);
      this.exempt.addSubnet(r.address, r.prefix, r.family);
    }
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.total;
  }

  /** True when `address` is in an exempt range. */
  isExempt(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return this.exempt.check(mapped[1]!, 'ipv4');
    if (isIPv4(address)) return this.exempt.check(address, 'ipv4');
    return isIPv6(address) && this.exempt.check(address.split('%')[0]!, 'ipv6');
  }

  /**
   * Admit a connection from `address` (the socket's remote address; undefined
   * if it is already gone): a slot, or the text of the BYE to greet it with.
   */
  admit(address: string | undefined): Admitted | string {
    if (this.total >= this.limits.maxConnections) return 'Too many connections; try again later';
    const key = address === undefined || this.isExempt(address) ? undefined : sourceKey(address);
    const n = key === undefined ? 0 : (this.perSource.get(key) ?? 0);
    if (key !== undefined && n >= this.limits.maxConnectionsPerAddress) {
      return 'Too many connections from your address; try again later';
    }
    this.total++;
    if (key !== undefined) this.perSource.set(key, n + 1);
    let held = true;
    return {
      sourceKey: key,
      release: () => {
        if (!held) return;
        held = false;
        this.total--;
        if (key === undefined) return;
        const left = (this.perSource.get(key) ?? 1) - 1;
        if (left > 0) this.perSource.set(key, left);
        else this.perSource.delete(key);
      },
    };
  }
}

/**
 * Called by the connection before each command it handles; a returned error
 * is answered (a BYE closes the connection) instead of running the command.
 */
export type CommandGuard = (session: Session) => ImapError | undefined;

/** A guard for one connection: the (max+1)th command before login gets `* BYE [LIMIT]`. */
export function preAuthCommandGuard(max: number): CommandGuard {
  let seen = 0;
  return (session) => {
    if (session.state !== 'notauth') return undefined;
    seen++;
    return seen > max ? new ImapError('BYE', 'LIMIT', 'Too many commands before login') : undefined;
  };
}
