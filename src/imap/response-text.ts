/** Texts of tagged responses made by the connection. */
import type { SessionState } from './session.js';

/** Response text is one line: CR/LF become spaces, and it stays short. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 300);
}

/** Why a command is refused in the current state (RFC 9051 §3). */
export function stateText(state: SessionState, name: string): string {
  if (state === 'notauth') return `${name} needs authentication first`;
  if (state === 'auth') return `${name} needs a selected mailbox`;
  return `${name} is not valid in this state`;
}
