/**
 * Character classes of the IMAP grammar (RFC 9051 §9), shared by the framer,
 * decoder and encoder. All take one octet.
 *
 *   atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
 *   ATOM-CHAR     = <any CHAR except atom-specials>
 *   ASTRING-CHAR  = ATOM-CHAR / resp-specials          (resp-specials = "]")
 *   tag           = 1*<any ASTRING-CHAR except "+">
 *   list-char     = ATOM-CHAR / list-wildcards / resp-specials
 */

/** ASTRING-CHAR minus "+" (RFC 9051 §9 `tag`). */
export function isTagChar(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false; // CTL, SP, 8-bit
  switch (c) {
    case 0x28: // (
    case 0x29: // )
    case 0x7b: // {
    case 0x25: // %
    case 0x2a: // *
    case 0x22: // "
    case 0x5c: // \
    case 0x2b: // +
      return false;
    default:
      return true;
  }
}

/** ASTRING-CHAR: ATOM-CHAR / "]" (= tag characters plus "+"). */
export function isAstringChar(c: number): boolean {
  return isTagChar(c) || c === 0x2b;
}

/** ATOM-CHAR: CHAR minus atom-specials. */
export function isAtomChar(c: number): boolean {
  return c !== 0x5d && isAstringChar(c);
}

/** list-char (LIST patterns): ASTRING-CHAR / "%" / "*". */
export function isListChar(c: number): boolean {
  return isAstringChar(c) || c === 0x25 || c === 0x2a;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `date-month` names (RFC 9051 §9), index 0 = January. */
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
