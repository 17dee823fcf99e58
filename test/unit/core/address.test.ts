import { describe, expect, it } from 'vitest';
import { formatMailbox, normaliseAddress, parseAddress, parseMailbox } from '../../../functions/core/address';

describe('parseMailbox', () => {
  it('accepts a plain address and lower-cases the domain', () => {
    expect(parseMailbox(' Jane@Example.COM ')).toEqual({ ok: true, value: { address: 'Jane@example.com' } });
  });

  it('converts an internationalised domain to punycode', () => {
    const r = parseMailbox('user@bücher.example');
    expect(r).toEqual({ ok: true, value: { address: 'user@xn--bcher-kva.example' } });
  });

  it('refuses a non-ASCII local part with a message that says why', () => {
    const r = parseMailbox('jürgen@example.com');
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.message).toMatch(/ASCII/);
  });

  it('accepts a quoted local part', () => {
    expect(parseMailbox('"john doe"@example.com')).toEqual({ ok: true, value: { address: '"john doe"@example.com' } });
  });

  it('accepts a display name with a comma when it is quoted', () => {
    expect(parseMailbox('"Doe, Jane" <jane@example.com>')).toEqual({
      ok: true,
      value: { address: 'jane@example.com', name: 'Doe, Jane' },
    });
  });

  it('refuses an unquoted display name with a comma', () => {
    expect(parseMailbox('Doe, Jane <jane@example.com>').ok).toBe(false);
  });

  it.each(['a@b.com\r\nBcc: x@evil.com', 'Jane\n <jane@example.com>', 'jane@example.com\u0000'])(
    'refuses control characters (header injection): %j',
    (input) => {
      const r = parseMailbox(input);
      expect(r.ok).toBe(false);
    },
  );

  it.each(['', 'no-at-sign', '@example.com', 'a@', 'a@localhost', 'a..b@example.com', '.a@example.com', 'a@-x.com'])(
    'refuses %j',
    (input) => {
      expect(parseAddress(input).ok).toBe(false);
    },
  );
});

describe('formatMailbox', () => {
  it('quotes ASCII display names and escapes quotes', () => {
    expect(formatMailbox({ address: 'a@example.com', name: 'Say "hi"' })).toBe('"Say \\"hi\\"" <a@example.com>');
  });

  it('encodes non-ASCII display names as RFC 2047 encoded words', () => {
    const formatted = formatMailbox({ address: 'a@example.com', name: 'Zoë' });
    expect(formatted).toBe(`=?UTF-8?B?${Buffer.from('Zoë').toString('base64')}?= <a@example.com>`);
  });
});

describe('normaliseAddress', () => {
  it('trims and lower-cases so that one mailbox has one suppression key', () => {
    expect(normaliseAddress('  User@Example.ORG ')).toBe('user@example.org');
  });

  it('returns undefined for something that is not an address', () => {
    expect(normaliseAddress('nope')).toBeUndefined();
  });
});

describe('addresses are never changed silently (issue examples)', () => {
  it.each([
    ['user@192.168.0.1', /host name, not an IP address/],
    ['a@1.2.3', /host name, not an IP address/],
    ['a@0x7f.1', /host name, not an IP address/],
    ['a@[127.0.0.1]', /IP address literal/],
    ['a@ex%61mple.com', /not a valid host name/],
    ['user@domain.com©', /IDNA2008 does not allow/],
    ['u@☃.com', /IDNA2008 does not allow/],
    ['u@ｅｘａｍｐｌｅ.com', /would have to be changed to "example"/],
    ['u@a·b.cat', /IDNA2008 does not allow/],
    ['""@example.org', /must not be empty/],
  ])('refuses %j and says why', (input, why) => {
    const r = parseMailbox(input);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.message).toMatch(why);
  });

  it.each([
    '\r\na@example.com',
    'a@example.com\r\n',
    '\na@example.com',
    'a@example.com\n',
    '\ta@example.com',
    'a@example.com\u0085',
    'a@example.com\u2028',
    'Jane\u0000 <a@example.com>',
  ])('refuses a control character at the edge as well as inside, never trims it: %j', (input) => {
    const r = parseMailbox(input);
    expect(r).toEqual({ ok: false, message: 'must not contain control characters such as CR or LF' });
  });

  it('trims only spaces around the value', () => {
    expect(parseMailbox('   a@example.com  ')).toEqual({ ok: true, value: { address: 'a@example.com' } });
    expect(parseMailbox('\u00a0a@example.com').ok).toBe(false);
  });

  it.each([
    ['user@XN--BCHER-KVA.example', 'user@xn--bcher-kva.example'],
    ['u@faß.de', 'u@xn--fa-hia.de'],
    ['u@l·l.cat', 'u@xn--ll-0ea.cat'],
    ['u@例え.テスト', 'u@xn--r8jz45g.xn--zckzah'],
  ])('accepts %j as %j (case and punycode only)', (input, address) => {
    expect(parseMailbox(input)).toEqual({ ok: true, value: { address } });
  });
});
