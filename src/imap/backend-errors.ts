/**
 * Lower-layer errors → IMAP responses (STYLE §7): a missing group or article
 * is NO [NONEXISTENT], an unreachable upstream or agent NO [UNAVAILABLE].
 */
import { BackendError } from '../export/interface.js';
import { FlagStoreError } from '../stateagent/flagstore.js';
import { ImapError } from './errors.js';

export function mapBackendError(err: unknown, what: string): unknown {
  if (err instanceof ImapError) return err;
  if (err instanceof BackendError) {
    switch (err.code) {
      case 'NONEXISTENT':
        return new ImapError('NO', 'NONEXISTENT', `${what}: does not exist`, { cause: err });
      case 'UNAVAILABLE':
        return new ImapError('NO', 'UNAVAILABLE', `${what}: upstream unavailable, try again later`, { cause: err });
      case 'NOPERM':
        return new ImapError('NO', 'NOPERM', `${what}: permission denied`, { cause: err });
      case 'UNKNOWN-CTE':
        return new ImapError('NO', 'UNKNOWN-CTE', `${what}: unknown content transfer encoding`, { cause: err });
      case 'CORRUPTION':
        return new ImapError('NO', 'CORRUPTION', `${what}: data is corrupt`, { cause: err });
    }
  }
  if (err instanceof FlagStoreError) {
    if (err.code === 'UNAVAILABLE') return new ImapError('NO', 'UNAVAILABLE', 'Flag store unavailable; nothing was changed', { cause: err });
    return new ImapError('NO', 'CANNOT', err.message, { cause: err });
  }
  return err;
}
