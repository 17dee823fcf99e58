import { describe, expect, it } from 'vitest';
import { LIMITS, SendEmailBody, toQueuedEmail } from '../../../functions/core/email';

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
