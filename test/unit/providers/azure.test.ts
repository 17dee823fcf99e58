import { RestError } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import {
  classifyAzureError,
  decodeEncodedWords,
  operationIdFor,
  parseRetryAfter,
  toAzureAddress,
  toEmailMessage,
  uuidV5,
} from '../../../functions/providers/azure';
import { outbound } from '../../support/records';

const DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const URL_NS = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

describe('uuidV5', () => {
  it('matches the RFC 9562 / Python uuid5 vectors', () => {
    expect(uuidV5('www.example.com', DNS)).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(uuidV5('python.org', DNS)).toBe('886313e1-3b8a-5372-9b90-0c9aee199e5d');
    expect(uuidV5('http://python.org/', URL_NS)).toBe('4c565f0d-3f5a-5890-b41b-20cf47701c5e');
  });

  it('derives a stable, distinct, v5 operation id per message id', () => {
    const a = operationIdFor('msg-1');
    expect(a).toBe(operationIdFor('msg-1'));
    expect(a).not.toBe(operationIdFor('msg-2'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidV5('x', 'not-a-uuid')).toThrow(/not a UUID/);
  });
});

describe('toAzureAddress', () => {
  it.each([
    ['a@example.com', { address: 'a@example.com' }],
    ['<a@example.com>', { address: 'a@example.com' }],
    ['Jane <jane@example.com>', { address: 'jane@example.com', displayName: 'Jane' }],
    ['"Doe, Jane" <jane@example.com>', { address: 'jane@example.com', displayName: 'Doe, Jane' }],
    ['"Say \\"hi\\"" <x@example.com>', { address: 'x@example.com', displayName: 'Say "hi"' }],
    [
      `=?UTF-8?B?${Buffer.from('Zoë Müller', 'utf8').toString('base64')}?= <zoe@example.com>`,
      { address: 'zoe@example.com', displayName: 'Zoë Müller' },
    ],
    ['=?utf-8?q?Caf=C3=A9_Bob?= <b@example.com>', { address: 'b@example.com', displayName: 'Café Bob' }],
  ])('%s', (input, expected) => {
    expect(toAzureAddress(input)).toEqual(expected);
  });

  it('joins adjacent encoded words and leaves malformed ones alone', () => {
    const w = (s: string) => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
    expect(decodeEncodedWords(`${w('日本')} ${w('語')}`)).toBe('日本語');
    expect(decodeEncodedWords('=?UTF-8?B?###?=')).toBe('=?UTF-8?B?###?=');
    expect(decodeEncodedWords('plain')).toBe('plain');
  });
});

describe('toEmailMessage', () => {
  const email = outbound({ to: ['"Doe, Jane" <jane@example.org>'], tags: {} });

  it('maps sender, recipients, content, headers and turns Azure tracking off', () => {
    expect(toEmailMessage(email)).toEqual({
      senderAddress: 'app@example.com',
      recipients: {
        to: [{ address: 'jane@example.org', displayName: 'Doe, Jane' }],
        bcc: [{ address: 'audit@example.org' }],
      },
      replyTo: [{ address: 'support@example.com' }],
      content: { subject: 'Hi', html: '<p>Hello</p>', plainText: 'Hello' },
      headers: { 'X-Entity-Ref': 'abc', 'X-Mailroute-Id': 'msg-1' },
      disableUserEngagementTracking: true,
    });
  });

  it('keeps an X-Mailroute-Id already present and sends text-only content', () => {
    const m = toEmailMessage({ ...email, html: undefined, headers: { 'x-mailroute-id': 'msg-1' } });
    expect(m.headers).toEqual({ 'x-mailroute-id': 'msg-1' });
    expect(m.content).toEqual({ subject: 'Hi', plainText: 'Hello' });
  });
});

describe('classifyAzureError', () => {
  const rest = (statusCode: number, code: string, headers: Record<string, string> = {}) => {
    const e = new RestError(`message for ${code}`, { statusCode, code });
    Object.assign(e, { response: { status: statusCode, headers: { get: (n: string) => headers[n.toLowerCase()] } } });
    return e;
  };
  const net = (code: string, message = code) => new RestError(message, { code });

  it.each([
    [rest(429, 'TooManyRequests', { 'retry-after': '7' }), { kind: 'throttled', retryAfterSeconds: 7 }],
    [rest(429, 'TooManyRequests', { 'retry-after-ms': '1500' }), { kind: 'throttled', retryAfterSeconds: 2 }],
    [rest(429, 'TooManyRequests'), { kind: 'throttled' }],
    [rest(500, 'InternalServerError'), { kind: 'down' }],
    [rest(503, 'ServiceUnavailable'), { kind: 'down' }],
    [rest(401, 'Denied'), { kind: 'broken' }],
    [rest(403, 'Forbidden'), { kind: 'broken' }],
    [rest(400, 'InvalidRecipient'), { kind: 'rejected' }],
    [rest(404, 'NotFound'), { kind: 'rejected' }],
    [net('ECONNREFUSED'), { kind: 'down' }],
    [net('ENOTFOUND'), { kind: 'down' }],
    [net('EAI_AGAIN'), { kind: 'down' }],
    [net('ECONNRESET', 'socket hang up'), { kind: 'ambiguous' }],
    [Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), { kind: 'ambiguous' }],
    [undefined, { kind: 'ambiguous' }],
  ])('%# → %o', (error, expected) => {
    const out = classifyAzureError(error);
    expect(out).toMatchObject(expected);
    if (expected.kind === 'throttled' && !('retryAfterSeconds' in expected)) {
      expect(out).not.toHaveProperty('retryAfterSeconds');
    }
  });

  it('puts the code in the reason, caps it at 500 characters and redacts keys', () => {
    const out = classifyAzureError(rest(400, 'InvalidRecipient'));
    expect(out).toEqual({ kind: 'rejected', reason: 'HTTP 400: InvalidRecipient: message for InvalidRecipient' });
    const long = classifyAzureError(new RestError('x'.repeat(2000), { statusCode: 400 }));
    expect('reason' in long && long.reason.length).toBe(500);
    const leak = classifyAzureError(
      new RestError('bad endpoint=https://x/;accessKey=c2VjcmV0a2V5 Signature=abc123', { code: 'ECONNRESET' }),
    );
    expect(JSON.stringify(leak)).not.toMatch(/c2VjcmV0a2V5|abc123/);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
  });
});
