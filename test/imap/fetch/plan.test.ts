/**
 * planOf (fetch/plan.ts): what FETCH items ask of the backend and which
 * rendering path answers them, for the request shapes clients send.
 */
import { describe, expect, it } from 'vitest';
import { Decoder } from '../../../src/imap/wire/decoder.js';
import { parseFetchItems } from '../../../src/imap/wire/fetch-att.js';
import { planOf } from '../../../src/imap/fetch/plan.js';

const plan = (s: string) => {
  const d = Decoder.ofText(s);
  const r = parseFetchItems(d);
  d.end();
  const { structureItems, ...rest } = planOf(r.items);
  return { ...rest, structureItems: structureItems.map((i) => i.name) };
};

describe('planOf', () => {
  it('a listing (UID FLAGS ENVELOPE RFC822.SIZE): meta and flags, exact size, no content or structure', () => {
    expect(plan('(UID FLAGS ENVELOPE RFC822.SIZE)')).toMatchObject({
      meta: true, structure: false, content: false, flagItems: true, envelope: true, exactSize: true,
      listing: true, structureListing: false, bodies: false, setsSeen: false, structureItems: [],
    });
    expect(plan('(ENVELOPE)')).toMatchObject({ meta: true, exactSize: false, listing: true, envelope: true, flagItems: false });
  });

  it('BODY.PEEK[] is the bodies path with content and exact size; BODY[] sets \\Seen', () => {
    expect(plan('(BODY.PEEK[])')).toMatchObject({ meta: true, content: true, exactSize: true, bodies: true, listing: false, setsSeen: false });
    expect(plan('(BODY[])')).toMatchObject({ setsSeen: true, bodies: true });
    // a header section reads no content and needs no exact size
    expect(plan('(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')).toMatchObject({ content: false, exactSize: false, meta: true, bodies: false });
  });

  it('structure items: BODYSTRUCTURE beside listing items is a structure listing; a part section needs the structure and content', () => {
    expect(plan('(UID BODYSTRUCTURE)')).toMatchObject({
      structure: true, structureListing: true, listing: false, renderedOnly: true, structureOnly: true, structureItems: ['BODYSTRUCTURE'],
    });
    expect(plan('(BODY.PEEK[1] PREVIEW)')).toMatchObject({
      structure: true, content: true, eagerPreview: true, renderedOnly: false, structureOnly: false, structureItems: ['BODY[1]', 'PREVIEW'],
    });
    expect(plan('(PREVIEW (LAZY))')).toMatchObject({ structure: false, eagerPreview: false, structureItems: [] });
    expect(plan('(BINARY.SIZE[1])')).toMatchObject({ meta: true, structure: true, exactSize: true, content: false });
  });

  it("a part's section, BODY or BINARY, waits for neither the header nor the exact size; the whole message's does", () => {
    expect(plan('(BODY.PEEK[2]<0.1024>)')).toMatchObject({ meta: false, exactSize: false, structure: true, content: true });
    expect(plan('(BINARY.PEEK[2]<0.1024>)')).toMatchObject({ meta: false, exactSize: false, structure: true, content: true });
    expect(plan('(BINARY.PEEK[]<0.1024>)')).toMatchObject({ meta: true, exactSize: true, content: true });
    expect(plan('(BINARY[2] RFC822.SIZE)')).toMatchObject({ meta: true, exactSize: true, setsSeen: true });
  });
});
