import { describe, expect, it } from 'vitest';
import { BatchBody, BatchEmails, LIMITS, SendEmailBody, toQueuedEmail } from '../../../functions/core/email';
import { API_ERRORS } from '../../../functions/core/zod-locale';

const base = { from: 'app@example.com', to: 'user@example.org', subject: 'Hi', html: '<p>Hello</p>' };
const issues = (input: unknown) => {
  const r = SendEmailBody.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('SendEmailBody', () => {
  it('accepts the minimal email and turns a single recipient into a list', () => {
    const r = SendEmailBody.parse(base);
    expect(r.to).toEqual([{ address: 'user@example.org' }]);
  });

  it('refuses unknown fields, so a typo never silently drops content', () => {
    expect(issues({ ...base, htm: '<p>x</p>' }).join()).toMatch(/htm/);
  });

  it('needs html or text', () => {
    const { html: _html, ...noBody } = base;
    expect(issues(noBody)).toEqual(['html: give html, text or both']);
  });

  it('refuses CR/LF in the subject', () => {
    expect(issues({ ...base, subject: 'Hi\r\nBcc: x@evil.com' }).join()).toMatch(/subject.*CR/);
  });

  it('refuses more than 50 recipients across to, cc and bcc', () => {
    const many = Array.from({ length: 30 }, (_, i) => `u${i}@example.org`);
    expect(issues({ ...base, to: many, cc: many }).join()).toMatch(/at most 50 recipients/);
    expect(issues({ ...base, to: many.slice(0, 25), cc: many.slice(0, 25) })).toEqual([]);
  });

  it('refuses reserved headers, case-insensitively', () => {
    expect(issues({ ...base, headers: { 'dkim-signature': 'x' } }).join()).toMatch(/set by mailroute/);
    expect(issues({ ...base, headers: { From: 'x' } }).join()).toMatch(/set by mailroute/);
    expect(issues({ ...base, headers: { 'X-Entity-Ref': 'abc' } })).toEqual([]);
  });

  it('refuses header injection and over-long header values', () => {
    expect(issues({ ...base, headers: { 'X-A': 'a\r\nBcc: x@evil.com' } }).join()).toMatch(/CR, LF/);
    expect(issues({ ...base, headers: { 'X-A': 'a'.repeat(LIMITS.headerValue + 1) } }).join()).toMatch(/995/);
    expect(issues({ ...base, headers: { 'X A': 'a' } }).join()).toMatch(/header names/);
  });

  it('refuses more than 12 custom headers (SES takes 15; mailroute sets up to 3)', () => {
    const headers = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`X-H${i}`, 'v']));
    expect(issues({ ...base, headers: headers(13) }).join()).toMatch(/at most 12/);
    expect(issues({ ...base, headers: headers(12) })).toEqual([]);
  });

  it('keeps tags to the characters SES allows and reserves mailroute/ses prefixes', () => {
    expect(issues({ ...base, tags: { campaign: 'spring-2026' } })).toEqual([]);
    expect(issues({ ...base, tags: { campaign: 'spring 2026' } }).join()).toMatch(/tag names and values/);
    expect(issues({ ...base, tags: { 'mailroute-id': 'x' } }).join()).toMatch(/reserved/);
  });

  it('reports the path of a bad recipient', () => {
    expect(issues({ ...base, to: ['ok@example.org', 'bad'] })[0]).toMatch(/^to\.1:/);
  });
});

describe('category', () => {
  it('defaults to transactional', () => {
    expect(SendEmailBody.parse(base).category).toBe('transactional');
  });

  it('sends non-transactional mail to exactly one recipient (its unsubscribe link is personal)', () => {
    expect(issues({ ...base, category: 'newsletter' })).toEqual([]);
    expect(issues({ ...base, category: 'newsletter', to: ['a@example.org', 'b@example.org'] }).join()).toMatch(
      /exactly one recipient/,
    );
    expect(issues({ ...base, category: 'newsletter', bcc: 'c@example.org' }).join()).toMatch(/exactly one recipient/);
    expect(issues({ ...base, to: ['a@example.org', 'b@example.org'] })).toEqual([]);
  });

  it('refuses malformed category names', () => {
    expect(issues({ ...base, category: 'News Letter' }).join()).toMatch(/categories are/);
  });
});

describe('toQueuedEmail', () => {
  it('formats every mailbox for the provider and keeps the body only in the queued message', () => {
    const q = toQueuedEmail(
      'id-1',
      SendEmailBody.parse({ ...base, from: '"Acme, Inc" <app@example.com>', text: 'Hello' }),
    );
    expect(q).toMatchObject({
      v: 1,
      id: 'id-1',
      from: '"Acme, Inc" <app@example.com>',
      to: ['user@example.org'],
      html: '<p>Hello</p>',
      text: 'Hello',
    });
  });
});

describe('validation messages in the API’s terms (parsed as the API parses: API_ERRORS)', () => {
  /** "path: message" of every issue, as the 422's details list them. */
  type Parser = {
    safeParse(
      input: unknown,
      ctx: typeof API_ERRORS,
    ): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } };
  };
  const api = (schema: Parser, input: unknown) => {
    const r = schema.safeParse(input, API_ERRORS);
    return (r.error?.issues ?? []).map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
  };
  const email = (input: unknown) => api(SendEmailBody, input);
  const { to: _to, ...noTo } = base;
  const { from: _from, ...noFrom } = base;
  const { subject: _subject, ...noSubject } = base;

  it('a missing `to` says what it takes, not "expected array, received undefined"', () => {
    expect(email(noTo)).toEqual(['to: `to` is required: an address or a list of addresses']);
    expect(email({ ...base, to: 5 })).toEqual(['to: `to` must be an address or a list of addresses']);
    expect(email({ ...base, to: [5] })).toEqual([
      'to.0: `to.0` must be an address, like "jane@example.org" or "Jane Doe <jane@example.org>"',
    ]);
  });

  it('names every address field: from, cc, bcc, replyTo', () => {
    expect(email(noFrom)).toEqual([
      'from: `from` is required: the sender\'s address, like "app@acme.example" or "Acme <app@acme.example>"',
    ]);
    expect(email({ ...base, from: ['a@example.com'] })[0]).toMatch(/^from: `from` must be the sender's address/);
    for (const field of ['cc', 'bcc', 'replyTo']) {
      expect(email({ ...base, [field]: { a: 1 } })).toEqual([
        `${field}: \`${field}\` must be an address or a list of addresses`,
      ]);
    }
    expect(email({ ...base, cc: ['a@example.org', 'nope'] })).toEqual([
      'cc.1: "nope": must be an email address like name@example.com',
    ]);
  });

  it('lists every problem at once: a bad recipient and a missing body', () => {
    const { html: _html, ...noBody } = base;
    expect(email({ ...noBody, to: ['ok@example.org', 'bad'] })).toEqual([
      'to.1: "bad": must be an email address like name@example.com',
      'html: give html, text or both',
    ]);
    // A missing `to` with a missing body: both, and no "at least one recipient" on top.
    expect(email({ from: base.from, subject: 'Hi' })).toEqual([
      'to: `to` is required: an address or a list of addresses',
      'html: give html, text or both',
    ]);
  });

  it('subject, html, text, category, track, headers and tags speak in fields and what they take', () => {
    expect(email(noSubject)).toEqual(['subject: `subject` is required']);
    expect(email({ ...base, subject: '' })).toEqual(['subject: `subject` must not be empty']);
    expect(email({ ...base, subject: 'x'.repeat(LIMITS.subject + 1) })).toEqual([
      'subject: `subject` must be at most 998 characters',
    ]);
    expect(email({ ...base, subject: 3 })).toEqual(['subject: `subject` must be a string']);
    expect(email({ ...base, html: 3 })).toEqual(['html: `html` must be a string']);
    expect(email({ ...base, text: '' })).toEqual(['text: `text` must not be empty']);
    expect(email({ ...base, category: 7 })).toEqual(['category: `category` must be a string']);
    expect(email({ ...base, track: { opens: 'yes' } })).toEqual(['track.opens: `track.opens` must be true or false']);
    expect(email({ ...base, track: true })).toEqual(['track: `track` must be an object']);
    expect(email({ ...base, headers: ['X-A: 1'] })).toEqual(['headers: `headers` must be an object']);
    expect(email({ ...base, headers: { 'X-A': 1 } })).toEqual(['headers.X-A: `headers.X-A` must be a string']);
    expect(email({ ...base, tags: { kind: 1 } })).toEqual(['tags.kind: `tags.kind` must be a string']);
  });

  it('an unknown field is named with its path, and the body must be an object', () => {
    expect(email({ ...base, htm: '<p>x</p>' })).toEqual([
      ': unknown field `htm`: it is not part of this request (check the spelling)',
    ]);
    expect(email({ ...base, track: { open: true } })).toEqual([
      'track: unknown field `track.open`: it is not part of this request (check the spelling)',
    ]);
    expect(email([])).toEqual([': the body must be a JSON object']);
    expect(email('hello')).toEqual([': the body must be a JSON object']);
  });

  it('a batch names `emails` and each email’s fields with their full path', () => {
    expect(api(BatchBody, {})).toEqual(['emails: `emails` is required: a list of 1 to 100 emails']);
    expect(api(BatchBody, { emails: 'x' })).toEqual(['emails: `emails` must be a list of 1 to 100 emails']);
    expect(api(BatchBody, { emails: [] })).toEqual(['emails: `emails` must list at least one email']);
    const { html: _html, ...noBody } = base;
    expect(api(BatchEmails, { emails: [base, base, base, { ...noBody, to: undefined, subject: '' }] })).toEqual([
      'emails.3.to: `emails.3.to` is required: an address or a list of addresses',
      'emails.3.subject: `emails.3.subject` must not be empty',
      'emails.3.html: give html, text or both',
    ]);
  });
});
