/**
 * Bearer tokens of the state agent (DESIGN invariant 5: the agent
 * authenticates every caller). A tokens file holds one grant per line:
 *
 *     # comment
 *     <token> user <name>        acts only for user <name>
 *     <token> frontend <name>    acts for any user (the front-end authenticated them)
 *
 * Tokens are looked up by their SHA-256 so the lookup time does not depend on
 * how much of a guessed token is right. A token must be ≥ 16 characters.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkUser } from '../validate.js';

export interface Grant {
  kind: 'user' | 'frontend';
  /** The user name (kind user) or the front-end's name (for logs). */
  name: string;
}

/** Shortest token accepted: shorter ones are guessable. */
export const MIN_TOKEN_LENGTH = 16;

export class TokenFileError extends Error {
  readonly code = 'BAD_TOKENS';
  constructor(message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class Tokens {
  private readonly byDigest = new Map<string, Grant>();

  /** Parse a tokens file's text. Throws TokenFileError naming the first bad line. */
  static parse(text: string): Tokens {
    const t = new Tokens();
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      const m = /^(\S+)\s+(user|frontend)\s+(\S+)$/.exec(line);
      if (!m) throw new TokenFileError(`tokens line ${i + 1}: expected "<token> user|frontend <name>"`);
      if (m[1]!.length < MIN_TOKEN_LENGTH) throw new TokenFileError(`tokens line ${i + 1}: token shorter than ${MIN_TOKEN_LENGTH}`);
      if (m[2] === 'user') {
        try {
          checkUser(m[3]);
        } catch {
          throw new TokenFileError(`tokens line ${i + 1}: bad user name`);
        }
      }
      t.add(m[1]!, { kind: m[2] as Grant['kind'], name: m[3]! });
    }
    return t;
  }

  /** Read and parse a tokens file. Throws TokenFileError, also when the file cannot be read. */
  static load(path: string): Tokens {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new TokenFileError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return Tokens.parse(text);
  }

  add(token: string, grant: Grant): void {
    this.byDigest.set(digest(token), grant);
  }

  /** The grant of an `Authorization` header value, or undefined (→ 401). */
  check(authorization: string | undefined): Grant | undefined {
    if (!authorization) return undefined;
    const m = /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (!m) return undefined;
    return this.byDigest.get(digest(m[1]!));
  }

  get size(): number {
    return this.byDigest.size;
  }
}

/** May `grant` act for `user`? */
export function mayActFor(grant: Grant, user: string): boolean {
  return grant.kind === 'frontend' || grant.name === user;
}
