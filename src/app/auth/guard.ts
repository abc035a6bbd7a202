/**
 * The authenticator the server uses: the users file behind the failed-login
 * limiter (limiter.ts) and the bounded password-check queue (check-queue.ts).
 *
 *   verify(user, password, source)
 *     → { refused: 'throttled' }  too many recent failures for the user or the source: no check
 *     → { refused: 'busy' }       no room among the waiting checks: no check
 *     → true | false              the check ran (a failure is counted)
 *
 * Throws only what the wrapped authenticator throws (then nothing is counted).
 */
import type { Logger } from '../../util/log.js';
import type { Authenticator, LoginRefusal } from '../../imap/context.js';
import { CheckQueue, CheckQueueFull } from './check-queue.js';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter, type LoginLimits } from './limiter.js';
import { PASSWORD_CHECKS, PASSWORD_CHECK_QUEUE, REFUSAL_LOG_INTERVAL_MS } from '../../imap/limits.js';

/** What actually checks passwords (the users file). */
export interface PasswordChecker {
  verify(user: string, password: string): Promise<boolean>;
}

export interface GuardOptions extends Partial<LoginLimits> {
  /** Where refusals are summed up (warn, at most every 10 s); none: not logged. */
  log?: Logger;
  /** Password checks running at once. */
  passwordChecks?: number;
  /** Password checks waiting at most. */
  passwordCheckQueue?: number;
}

export class GuardedAuthenticator implements Authenticator {
  readonly limiter: LoginLimiter;
  readonly queue: CheckQueue;
  private readonly log: Logger | undefined;
  private refused = { throttled: 0, busy: 0 };
  private loggedAt = 0;

  constructor(
    private readonly checker: PasswordChecker,
    opts: GuardOptions = {},
    now?: () => number,
  ) {
    const { passwordChecks, passwordCheckQueue, log, ...given } = opts;
    this.log = log;
    const limits: LoginLimits = { ...DEFAULT_LOGIN_LIMITS };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) Object.assign(limits, { [k]: v });
    this.limiter = new LoginLimiter(limits, now);
    this.queue = new CheckQueue(passwordChecks ?? PASSWORD_CHECKS, passwordCheckQueue ?? PASSWORD_CHECK_QUEUE);
  }

  async verify(user: string, password: string, source?: string): Promise<boolean | LoginRefusal> {
    const attempt = this.limiter.begin(user, source);
    if (!attempt) return this.refuse('throttled');
    let ok: boolean;
    try {
      ok = await this.queue.run(() => this.checker.verify(user, password), attempt.rank);
    } catch (err) {
      attempt.cancelled();
      if (err instanceof CheckQueueFull) return this.refuse('busy');
      throw err;
    }
    if (ok) attempt.succeeded();
    else attempt.failed();
    return ok;
  }

  private refuse(why: LoginRefusal['refused']): LoginRefusal {
    this.refused[why]++;
    const now = Date.now();
    if (this.log && now - this.loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
      this.log.warn({ refused: this.refused, checking: this.queue.active, waiting: this.queue.queued }, 'logins refused without a password check');
      this.refused = { throttled: 0, busy: 0 };
      this.loggedAt = now;
    }
    return { refused: why };
  }
}
