/**
 * Limits of the MIME layer, each with its reason. All of them bound memory or
 * recursion for hostile articles; none changes the result for a sane article.
 */

/**
 * Header bytes kept per entity while streaming. The header is needed whole to
 * parse Content-Type and the ENVELOPE fields; bytes beyond this bound are still
 * counted in the offsets but not parsed. RFC 5322 §2.1.1 caps a line at 998
 * octets, but real articles carry 1 MB References lines, so the bound is generous.
 */
export const MAX_HEADER_BYTES = 4 * 1024 * 1024;

/**
 * Bytes of a line inspected to classify it (blank line, boundary delimiter) before
 * the rest of the line is streamed as content. RFC 2046 §5.1.1 caps a boundary at
 * 70 characters; the delimiter line adds "--", "--" and transport padding.
 */
export const LINE_PROBE = 1024;

/** Longest boundary parameter honoured (RFC 2046 §5.1.1 says 70); longer ⇒ opaque part. */
export const MAX_BOUNDARY_LEN = LINE_PROBE - 8;

/**
 * Nesting depth of multipart / message entities that get their own structure.
 * Deeper entities become opaque leaves, so neither the parser's frame stack nor
 * the recursive consumers of the tree (IMAP rendering, JSON) can overflow.
 */
export const MAX_DEPTH = 64;

/** Addresses kept per address header: a bound on ENVELOPE size for junk headers. */
export const MAX_ADDRESSES = 10_000;
