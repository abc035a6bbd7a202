/**
 * Not-authenticated state (RFC 9051 §6.2): STARTTLS, LOGIN, AUTHENTICATE
 * (PLAIN, RFC 4616; ANONYMOUS, RFC 4505; SASL-IR, RFC 4959).
 *
 *   C: a1 LOGIN alice secret                      S: a1 OK [CAPABILITY ...] Logged in
 *   C: a2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==  S: a2 OK [CAPABILITY ...] Logged in
 *   C: a3 AUTHENTICATE ANONYMOUS                   S: +
 *   C: dHJhY2U=                                    S: a3 OK ...
 *
 * A wrong password is answered NO [AUTHENTICATIONFAILED] after a delay; too
 * many failures end the connection. When the authenticator limits failures
 * across connections (src/app/auth/guard.ts), a login over the limit is
 * answered NO [UNAVAILABLE] without a password check.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { command, type CommandContext, type Completion } from '../command.js';
import { NOT_AUTHENTICATED } from '../session.js';
import { ImapError, bad, no } from '../errors.js';
import { capabilities, plaintextAllowed } from '../capabilities.js';
import { MAX_FAILED_LOGINS } from '../limits.js';

/** The user name anonymous sessions run as; its flags are session-only. */
export const ANONYMOUS_USER = 'anonymous';

async function loggedIn(ctx: CommandContext, user: string, anonymous: boolean): Promise<Completion> {
  const s = ctx.session;
  s.login(user, anonymous, ctx.server.flagStoreFor(user));
  ctx.log.info({ user, anonymous }, 'logged in');
  return { code: `CAPABILITY ${capabilities(ctx.server, s).join(' ')}`, text: 'Logged in' };
}

/**
 * Check a password and log in. Every refusal, whether the password was
 * checked or not, waits `loginFailureDelayMs` (RFC 9051 §11.3: slows guessing;
 * a timer costs nothing) and counts toward MAX_FAILED_LOGINS on the
 * connection. A wrong password is `NO [AUTHENTICATIONFAILED]`; a login the
 * authenticator refused unchecked (too many recent failures for the user or
 * the source, or too many checks waiting) is `NO [UNAVAILABLE]`, as a
 * temporary condition the client should not take for a wrong password.
 */
async function checkPassword(ctx: CommandContext, user: string, password: string): Promise<Completion> {
  if (!plaintextAllowed(ctx.server, ctx.session)) throw no('PRIVACYREQUIRED', 'Use STARTTLS before logging in');
  if (ctx.server.options.anonymous && user.toLowerCase() === ANONYMOUS_USER) return loggedIn(ctx, ANONYMOUS_USER, true);
  const verdict = user === ANONYMOUS_USER ? false : await ctx.server.auth.verify(user, password, ctx.session.sourceKey);
  if (verdict === true) {
    // the check may have waited past the pre-auth deadline, which closed the connection meanwhile
    if (ctx.session.state !== 'notauth') throw no('UNAVAILABLE', 'Connection closed while logging in');
    return loggedIn(ctx, user, false);
  }
  ctx.session.failedLogins++;
  const refused = verdict === false ? undefined : verdict.refused;
  // refusals without a check come in floods: the authenticator sums them up in its own log lines
  if (refused) ctx.log.debug({ user, failures: ctx.session.failedLogins, refused }, 'login refused');
  else ctx.log.info({ user, failures: ctx.session.failedLogins }, 'login failed');
  await sleep(ctx.server.options.loginFailureDelayMs);
  if (ctx.session.failedLogins >= MAX_FAILED_LOGINS) {
    throw new ImapError('BYE', 'AUTHENTICATIONFAILED', 'Too many failed logins');
  }
  if (refused === 'throttled') throw no('UNAVAILABLE', 'Too many failed logins; try again later');
  if (refused === 'busy') throw no('UNAVAILABLE', 'Server busy; try again later');
  throw no('AUTHENTICATIONFAILED', 'Authentication failed');
}

function decodeBase64(line: Buffer): Buffer {
  const text = line.toString('latin1').trim();
  if (text === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw bad('CLIENTBUG', 'Invalid base64');
  return Buffer.from(text, 'base64');
}

/** Get the client's first response: the SASL-IR argument, or ask with `+`. */
async function firstResponse(ctx: CommandContext, initial: string | undefined): Promise<Buffer> {
  if (initial !== undefined) return decodeBase64(Buffer.from(initial, 'latin1'));
  await ctx.continuation('');
  const line = await ctx.readLine();
  if (line.toString('latin1').trim() === '*') throw bad(undefined, 'AUTHENTICATE cancelled');
  return decodeBase64(line);
}

export const authCommands = [
  command({
    name: 'LOGIN',
    states: NOT_AUTHENTICATED,
    parse(d) {
      d.sp();
      const user = d.astring();
      d.sp();
      const password = d.astring();
      d.end();
      return { user, password };
    },
    run: (ctx, a) => checkPassword(ctx, a.user, a.password),
  }),
  command({
    name: 'AUTHENTICATE',
    states: NOT_AUTHENTICATED,
    parse(d) {
      d.sp();
      const mechanism = d.atom().toUpperCase();
      let initial: string | undefined;
      if (!d.atEnd()) {
        d.sp();
        initial = d.rest().toString('latin1');
      }
      d.end();
      return { mechanism, initial };
    },
    async run(ctx, a) {
      if (a.mechanism === 'PLAIN') {
        if (!plaintextAllowed(ctx.server, ctx.session)) throw no('PRIVACYREQUIRED', 'Use STARTTLS first');
        const msg = await firstResponse(ctx, a.initial);
        const [authz, user, password] = splitNul(msg);
        if (user === undefined || password === undefined) throw bad('CLIENTBUG', 'PLAIN needs authzid NUL user NUL password');
        if (authz && authz !== user) throw no('AUTHORIZATIONFAILED', 'Cannot act as another user');
        return checkPassword(ctx, user, password);
      }
      if (a.mechanism === 'ANONYMOUS') {
        if (!ctx.server.options.anonymous) throw no('CANNOT', 'Anonymous access is disabled');
        const trace = await firstResponse(ctx, a.initial);
        ctx.log.info({ trace: trace.toString('utf8').slice(0, 255) }, 'anonymous login');
        return loggedIn(ctx, ANONYMOUS_USER, true);
      }
      throw no('CANNOT', `Unsupported mechanism ${a.mechanism.slice(0, 40)}`);
    },
  }),
  command({
    name: 'STARTTLS',
    states: NOT_AUTHENTICATED,
    parse: (d) => d.end(),
    async run(ctx) {
      if (!ctx.server.tls) throw bad(undefined, 'STARTTLS is not available: no certificate configured');
      if (ctx.session.tls) throw bad(undefined, 'TLS is already active');
      ctx.afterCompletion(() => ctx.transport.startTls());
      return { text: 'Begin TLS negotiation now' };
    },
  }),
];

function splitNul(b: Buffer): Array<string | undefined> {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === 0) {
      parts.push(b.subarray(start, i).toString('utf8'));
      start = i + 1;
    }
  }
  return parts.length === 3 ? parts : [undefined, undefined, undefined];
}
