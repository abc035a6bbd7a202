/**
 * Public surface of the MIME layer: article structure for IMAP FETCH
 * (ENVELOPE, BODYSTRUCTURE, BODY[section], BINARY) and SEARCH. Pure data; the
 * IMAP layer renders. See each module for its contract.
 */
export { MimeError, type MimeErrorCode } from './errors.js';
export { headerEnd, parseHeader, selectFields, findField, type HeaderField } from './header.js';
export { envelopeOf, ENVELOPE_FIELDS, type Envelope, type Address } from './envelope.js';
export { parseAddressList } from './address.js';
export { parseParamValue, bytesToText, type ParamValue } from './params.js';
export { describePart, paramOf, searchTextLeaves, MAX_SEARCH_PART_BYTES, type MimePart, type Disposition } from './part.js';
export { StructureParser, parseStructure, parseStructureStream, type ParseProgress } from './structure.js';
export { searchTextOf, searchTextBytes } from './search-text.js';
export { partAt, sectionRange, type SectionText, type ByteRange } from './section.js';
export { locateBinary, locateSection } from './locate.js';
export { serializeStructure, deserializeStructure, STRUCTURE_FORMAT } from './serialize.js';
export {
  decoderFor,
  chunkDecoderFor,
  decodeTransfer,
  isKnownEncoding,
  normalizeEncoding,
  textForSearch,
  decodeHeaderValue,
  Base64Decoder,
  QpDecoder,
  type ChunkDecoder,
  type TextPartInfo,
} from './decode.js';
export * as limits from './limits.js';
