/**
 * Texts of responses: the connection's own (state refusals, one-line
 * cleanup) and the one way client or article text is repeated in a response
 * text (`echo`, `echoMailbox`).
 */
import type { SessionState } from './session.js';
import { wireName } from './wire/mutf7.js';
import { no, type ImapError } from './errors.js';

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

/**
 * Most characters of foreign text (a mailbox name, a search string, a header
 * value) repeated in a response text: enough to recognise it, never the
 * 60,000 octets a client may send (tags are echoed by the protocol itself and
 * bounded by the line length; they are not cut).
 */
export const ECHO_MAX = 100;

/**
 * `text` as it may appear inside a response text (RFC 9051 §9 `text`, 7-bit
 * for IMAP4rev1 clients): characters outside printable US-ASCII become `?`,
 * `[` and `]` are kept, and text longer than ECHO_MAX characters is cut to
 * ECHO_MAX and marked with `...`. Every response text that repeats foreign
 * text goes through this (or `echoMailbox`).
 */
export function echo(text: string): string {
  const cut = text.length > ECHO_MAX;
  const head = cut ? text.slice(0, ECHO_MAX) : text;
  return head.replace(/[^\x20-\x7e]/g, '?') + (cut ? '...' : '');
}

/** A mailbox name as the client would write it (modified UTF-7), through `echo`. */
export function echoMailbox(name: string): string {
  return echo(wireName(name));
}

/** NO [NONEXISTENT] for a name that names no mailbox (RFC 5530). */
export function noSuchMailbox(name: string): ImapError {
  return no('NONEXISTENT', `${echoMailbox(name)}: no such mailbox`);
}
