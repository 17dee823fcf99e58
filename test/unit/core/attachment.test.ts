import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_LIMITS,
  type AttachmentFacts,
  AttachmentInput,
  checkAttachments,
  cidReferences,
  DENIED_EXTENSIONS,
  effectiveType,
  filenameProblem,
  messageBytes,
  mimeEncodedBytes,
  typesAgree,
} from '../../../functions/core/attachment';
import { maxMessageBytesOf, PROVIDER_MAX_MESSAGE_BYTES } from '../../../functions/core/message-size';

const pdf: AttachmentFacts = {
  filename: 'invoice.pdf',
  declaredType: 'application/pdf',
  sniffedType: 'application/pdf',
  size: 1000,
  disposition: 'attachment',
};
const logo: AttachmentFacts = {
  filename: 'logo.png',
  sniffedType: 'image/png',
  size: 500,
  disposition: 'inline',
  contentId: 'logo',
};

describe('file names', () => {
  it('takes names without separators or control characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9 _()-]{1,40}\.[a-z]{1,4}$/), (name) => {
        fc.pre(name.trim() !== '' && !/^\.+$/.test(name.trim()));
        expect(filenameProblem(name)).toBeUndefined();
      }),
    );
  });

  it('refuses any name with a path separator', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('/', '\\'), fc.string(), (a, sep, b) => {
        expect(filenameProblem(`${a}${sep}${b}`)).toBeDefined();
      }),
    );
  });

  it('refuses any name with a control character or a bidirectional override', () => {
    const control = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.integer({ min: 0x7f, max: 0x9f }),
      fc.integer({ min: 0x202a, max: 0x202e }),
    );
    fc.assert(
      fc.property(fc.string(), control, fc.string(), (a, code, b) => {
        expect(filenameProblem(`${a}${String.fromCharCode(code)}${b}`)).toBeDefined();
      }),
    );
  });

  it('refuses empty, dot-only and over-long names', () => {
    for (const name of ['', '.', '..', '   ', 'a'.repeat(ATTACHMENT_LIMITS.filename + 1)]) {
      expect(filenameProblem(name), JSON.stringify(name)).toBeDefined();
    }
  });
});

describe('checkAttachments', () => {
  it('passes a PDF and an inline logo the HTML refers to', () => {
    expect(checkAttachments([pdf, logo], '<img src="cid:logo">')).toEqual([]);
  });

  it('refuses every denied extension, whatever the content and the case', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DENIED_EXTENSIONS), fc.boolean(), (ext, upper) => {
        const filename = `setup.${upper ? ext.toUpperCase() : ext}`;
        const issues = checkAttachments([{ ...pdf, filename, sniffedType: undefined }], undefined);
        expect(issues).toContainEqual(expect.objectContaining({ index: 0, field: 'filename' }));
      }),
    );
  });

  it('refuses an executable by its content, whatever its name says', () => {
    const issues = checkAttachments(
      [{ ...pdf, filename: 'report.pdf', sniffedType: 'application/x-msdownload' }],
      undefined,
    );
    expect(issues).toEqual([
      expect.objectContaining({ index: 0, field: 'content', message: expect.stringMatching(/executable/) }),
    ]);
  });

  it('refuses a declared type the content contradicts, and names both', () => {
    const issues = checkAttachments([{ ...pdf, declaredType: 'image/png' }], undefined);
    expect(issues).toEqual([
      { index: 0, field: 'contentType', message: 'contentType is "image/png" but the content is application/pdf' },
    ]);
  });

  it('takes aliases and Office formats sniffed as their containers', () => {
    expect(typesAgree('image/jpg', 'image/jpeg')).toBe(true);
    expect(
      typesAgree('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/zip'),
    ).toBe(true);
    expect(typesAgree('Application/PDF; charset=binary', 'application/pdf')).toBe(true);
    expect(typesAgree('application/zip', 'application/pdf')).toBe(false);
  });

  it('refuses a file over the per-file limit and a set over the per-message limit, at the byte', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * ATTACHMENT_LIMITS.fileBytes }), (size) => {
        const issues = checkAttachments([{ ...pdf, size }], undefined);
        expect(issues.some((i) => i.field === 'content')).toBe(size > ATTACHMENT_LIMITS.fileBytes);
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: ATTACHMENT_LIMITS.fileBytes }), { minLength: 1, maxLength: 5 }),
        (sizes) => {
          const issues = checkAttachments(
            sizes.map((size, i) => ({ ...pdf, filename: `f${i}.pdf`, size })),
            undefined,
          );
          const total = sizes.reduce((a, b) => a + b, 0);
          expect(issues.some((i) => i.index === undefined)).toBe(total > ATTACHMENT_LIMITS.messageBytes);
        },
      ),
    );
  });

  it('refuses a cid: the HTML names that no inline attachment has, and a contentId used twice', () => {
    expect(checkAttachments([pdf], '<img src="cid:logo">')).toEqual([
      { field: 'html', message: 'the HTML refers to "cid:logo" but no inline attachment has that contentId' },
    ]);
    // An attachment (not inline) with that contentId does not count.
    expect(checkAttachments([{ ...pdf, contentId: 'logo' }], '<img src="cid:logo">')).toHaveLength(1);
    expect(checkAttachments([logo, { ...logo, filename: 'logo2.png' }], undefined)).toEqual([
      expect.objectContaining({ index: 1, field: 'contentId' }),
    ]);
  });

  it('finds cid: references in src, CSS url() and background', () => {
    expect(
      cidReferences(`<img src="cid:a"><td background='cid:b'><div style="background:url(cid:c)">cid:a`).sort(),
    ).toEqual(['a', 'b', 'c']);
  });
});

describe('the attachment field', () => {
  it('takes content or attachmentId, never both or neither, and asks an inline one for its contentId', () => {
    const ok = AttachmentInput.safeParse({ filename: 'a.pdf', content: 'JVBERg==' });
    expect(ok.success && ok.data.disposition).toBe('attachment');
    expect(AttachmentInput.safeParse({ filename: 'a.pdf' }).success).toBe(false);
    expect(
      AttachmentInput.safeParse({
        filename: 'a.pdf',
        content: 'JVBERg==',
        attachmentId: `up-1700000000-${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
      }).success,
    ).toBe(false);
    expect(AttachmentInput.safeParse({ filename: 'a.png', content: 'iVBO', disposition: 'inline' }).success).toBe(
      false,
    );
    expect(AttachmentInput.safeParse({ filename: 'a.pdf', content: 'not base64!' }).success).toBe(false);
  });
});

describe('sizes', () => {
  it('counts base64 in MIME lines a third larger, and a message at least its encoded files', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 30_000_000 }), { maxLength: 5 }), (sizes) => {
        const total = messageBytes({ subject: 's', text: 't', attachments: sizes.map((size) => ({ size })) });
        expect(total).toBeGreaterThanOrEqual(sizes.reduce((a, s) => a + (s * 4) / 3, 0));
      }),
    );
    expect(mimeEncodedBytes(57)).toBe(76 + 2);
  });

  it('takes the type declared, else sniffed, else by extension', () => {
    expect(effectiveType({ filename: 'a.bin', declaredType: 'Image/JPG' })).toBe('image/jpeg');
    expect(effectiveType({ filename: 'a.bin', sniffedType: 'image/png' })).toBe('image/png');
    expect(effectiveType({ filename: 'invite.ics' })).toBe('text/calendar');
    expect(effectiveType({ filename: 'data' })).toBe('application/octet-stream');
  });

  it("gives each provider type its limit; a definition may lower SES's and Azure's and set the relay's", () => {
    expect(maxMessageBytesOf({ type: 'ses' })).toBe(PROVIDER_MAX_MESSAGE_BYTES.ses);
    expect(maxMessageBytesOf({ type: 'azure' })).toBe(10 * 1024 * 1024);
    expect(maxMessageBytesOf({ type: 'azure', maxMessageBytes: 40_000_000 })).toBe(10 * 1024 * 1024);
    expect(maxMessageBytesOf({ type: 'ses', maxMessageBytes: 5_000_000 })).toBe(5_000_000);
    expect(maxMessageBytesOf({ type: 'http', maxMessageBytes: 30_000_000 })).toBe(30_000_000);
  });
});
