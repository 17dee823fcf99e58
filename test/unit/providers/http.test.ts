import { describe, expect, it } from 'vitest';
import type { SendOutcome } from '../../../functions/core/dispatch';
import type { OutboundEmail } from '../../../functions/ports';
import {
  acceptedId,
  classifyFetchError,
  classifyHttpStatus,
  errorDetail,
  HttpProvider,
  parseRetryAfter,
  wireBody,
} from '../../../functions/providers/http';
import { outbound } from '../../support/records';

const email: OutboundEmail = outbound({ cc: ['cc@example.org'] });

const NOW = Date.parse('2025-01-01T00:00:00Z');
const TOKEN = 'sekret-token-123';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

/** A fetch that records its calls and answers with `answer`. */
function fakeFetch(answer: () => Response | Promise<Response>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), init });
    return answer();
  };
  return { fetch: impl as typeof fetch, calls };
}

const failingFetch = (error: unknown): typeof fetch => (async () => Promise.reject(error)) as typeof fetch;

const netError = (code: string, message = `connect ${code} 127.0.0.1:9`) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });

const send = (answer: () => Response, token?: string): Promise<SendOutcome> =>
  new HttpProvider(
    'relay',
    { url: 'https://relay.example.com/send', ...(token ? { token } : {}) },
    fakeFetch(answer).fetch,
  ).send(email);

describe('parseRetryAfter', () => {
  it.each([
    ['30', 30],
    [' 0 ', 0],
    ['120', 120],
  ])('reads delta-seconds %j', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it('reads an HTTP date as seconds from now, rounded up', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', NOW)).toBe(90);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:00 GMT', NOW - 500)).toBe(1);
    // RFC 850 and asctime forms are HTTP dates too.
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:00:10 GMT', NOW)).toBe(10);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', NOW)).toBe(0);
  });

  it.each([null, undefined, '', 'soon', '-5', '1.5', '30s', 'Mon, 99 Foo 2025', '99999999999999999999'])(
    'ignores %j',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});

describe('classifyHttpStatus', () => {
  it.each([
    [429, 'throttled'],
    [500, 'down'],
    [502, 'down'],
    [503, 'down'],
    [504, 'down'],
    [401, 'broken'],
    [403, 'broken'],
    [400, 'rejected'],
    [404, 'rejected'],
    [409, 'rejected'],
    [413, 'rejected'],
    [422, 'rejected'],
    [301, 'broken'],
    [307, 'broken'],
  ] as const)('%i → %s', (status, kind) => {
    expect(classifyHttpStatus({ status, statusText: 'X' }, NOW).kind).toBe(kind);
  });

  it('keeps Retry-After on a 429, and omits it when unreadable', () => {
    expect(classifyHttpStatus({ status: 429, statusText: 'Too Many Requests', retryAfter: '30' }, NOW)).toEqual({
      kind: 'throttled',
      reason: 'HTTP 429 Too Many Requests',
      retryAfterSeconds: 30,
    });
    expect(classifyHttpStatus({ status: 429, statusText: '', retryAfter: 'later' }, NOW)).toEqual({
      kind: 'throttled',
      reason: 'HTTP 429',
    });
  });

  it('takes a rejection reason from error, then message, then the status text', () => {
    const reject = (body: string | undefined, statusText = 'Unprocessable Entity') =>
      classifyHttpStatus({ status: 422, statusText, body }, NOW);
    expect(reject('{"error":"bad recipient"}')).toEqual({ kind: 'rejected', reason: 'bad recipient' });
    expect(reject('{"message":"too big"}')).toEqual({ kind: 'rejected', reason: 'too big' });
    expect(reject('{"error":{"message":"nested"}}')).toEqual({ kind: 'rejected', reason: 'nested' });
    expect(reject('not json')).toEqual({ kind: 'rejected', reason: 'Unprocessable Entity' });
    expect(reject(undefined)).toEqual({ kind: 'rejected', reason: 'Unprocessable Entity' });
    expect(reject('{"error":42}', '')).toEqual({ kind: 'rejected', reason: 'HTTP 422' });
  });

  it('caps reasons at 500 characters', () => {
    const out = classifyHttpStatus(
      { status: 400, statusText: 'Bad', body: JSON.stringify({ error: 'x'.repeat(900) }) },
      NOW,
    );
    expect(out).toEqual({ kind: 'rejected', reason: 'x'.repeat(500) });
  });

  it('never repeats the token a receiver echoes', () => {
    const body = JSON.stringify({ error: `bad token Bearer ${TOKEN}` });
    for (const status of [400, 401, 422]) {
      const out = classifyHttpStatus({ status, statusText: 'X', body }, NOW, TOKEN);
      expect(JSON.stringify(out)).not.toContain(TOKEN);
      expect(JSON.stringify(out)).toContain('[redacted]');
    }
  });
});

describe('classifyFetchError', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])(
    '%s → down (the request never left)',
    (code) => {
      expect(classifyFetchError(netError(code)).kind).toBe('down');
    },
  );

  it('finds the code inside an AggregateError (several addresses tried)', () => {
    const aggregate = Object.assign(
      new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })], 'connect failed'),
      {},
    );
    expect(classifyFetchError(new TypeError('fetch failed', { cause: aggregate })).kind).toBe('down');
  });

  it.each([
    ['a timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    ['an abort', new DOMException('This operation was aborted', 'AbortError')],
    ['a reset', netError('ECONNRESET', 'read ECONNRESET')],
    ['a closed socket', netError('UND_ERR_SOCKET', 'other side closed')],
    ['an unknown error', new Error('boom')],
    ['a non-error', 'weird'],
  ])('%s → ambiguous', (_, error) => {
    expect(classifyFetchError(error).kind).toBe('ambiguous');
  });

  it('names the cause in the reason, without the token', () => {
    const out = classifyFetchError(netError('ECONNREFUSED', `connect ECONNREFUSED (${TOKEN})`), TOKEN);
    expect(out.reason).toContain('ECONNREFUSED');
    expect(out.reason).not.toContain(TOKEN);
  });
});

describe('wire helpers', () => {
  it('builds the body in the documented shape, without tags or category', () => {
    expect(JSON.parse(wireBody(email))).toEqual({
      id: 'msg-1',
      from: '"Acme" <app@example.com>',
      to: ['user@example.org'],
      cc: ['cc@example.org'],
      bcc: ['audit@example.org'],
      replyTo: ['support@example.com'],
      subject: 'Hi',
      html: '<p>Hello</p>',
      text: 'Hello',
      headers: { 'X-Entity-Ref': 'abc' },
    });
    const { html: _h, text: _t, ...bare } = email;
    expect(Object.keys(JSON.parse(wireBody(bare)))).toEqual([
      'id',
      'from',
      'to',
      'cc',
      'bcc',
      'replyTo',
      'subject',
      'headers',
    ]);
  });

  it('reads ids and error details leniently', () => {
    expect(acceptedId('{"id":"r-1"}')).toBe('r-1');
    expect(acceptedId('{"id":7}')).toBe('7');
    expect(acceptedId('{"id":""}')).toBeUndefined();
    expect(acceptedId('[1]')).toBeUndefined();
    expect(acceptedId('ok')).toBeUndefined();
    expect(acceptedId(undefined)).toBeUndefined();
    expect(errorDetail('null')).toBeUndefined();
    expect(errorDetail('{"error":"  "}')).toBeUndefined();
  });
});

describe('HttpProvider with an injected fetch', () => {
  it('is idempotent and POSTs JSON with the Idempotency-Key and bearer token', async () => {
    const { fetch, calls } = fakeFetch(() => Response.json({ id: 'r-1' }));
    const provider = new HttpProvider('relay', { url: 'https://relay.example.com/send', token: TOKEN }, fetch);
    expect(provider.idempotent).toBe(true);
    expect(provider.id).toBe('relay');
    expect(await provider.send(email)).toEqual({ kind: 'accepted', providerMessageId: 'r-1' });
    expect(calls).toHaveLength(1);
    const init = calls[0]?.init;
    expect(calls[0]?.url).toBe('https://relay.example.com/send');
    expect(init?.method).toBe('POST');
    expect(init?.headers).toEqual({
      'Content-Type': 'application/json',
      'Idempotency-Key': 'msg-1',
      Authorization: `Bearer ${TOKEN}`,
    });
    expect(init?.body).toBe(wireBody(email));
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(init?.redirect).toBe('manual');
  });

  it('sends no Authorization header without a token', async () => {
    const { fetch, calls } = fakeFetch(() => new Response(null, { status: 204 }));
    const out = await new HttpProvider('relay', { url: 'http://relay.local/send' }, fetch).send(email);
    expect(out).toEqual({ kind: 'accepted', providerMessageId: 'http:msg-1' });
    expect(calls[0]?.init?.headers).not.toHaveProperty('Authorization');
  });

  it.each([
    ['202 with an id', () => Response.json({ id: 'abc' }, { status: 202 }), 'abc'],
    ['200 with no body', () => new Response(null, { status: 200 }), 'http:msg-1'],
    ['200 with text', () => new Response('queued', { status: 200 }), 'http:msg-1'],
    ['201 with an empty object', () => Response.json({}, { status: 201 }), 'http:msg-1'],
  ])('accepts %s', async (_, answer, providerMessageId) => {
    expect(await send(answer)).toEqual({ kind: 'accepted', providerMessageId });
  });

  it.each([
    [
      '429 + Retry-After',
      () => new Response(null, { status: 429, statusText: 'Too Many Requests', headers: { 'Retry-After': '12' } }),
      { kind: 'throttled', reason: 'HTTP 429 Too Many Requests', retryAfterSeconds: 12 },
    ],
    [
      '503',
      () => new Response('down', { status: 503, statusText: 'Service Unavailable' }),
      { kind: 'down', reason: 'HTTP 503 Service Unavailable' },
    ],
    [
      '401',
      () => new Response(null, { status: 401, statusText: 'Unauthorized' }),
      { kind: 'broken', reason: 'HTTP 401 Unauthorized' },
    ],
    [
      '403 with a message',
      () => Response.json({ message: 'key revoked' }, { status: 403, statusText: 'Forbidden' }),
      { kind: 'broken', reason: 'HTTP 403 Forbidden: key revoked' },
    ],
    [
      '422',
      () => Response.json({ error: 'bad recipient' }, { status: 422, statusText: 'Unprocessable Entity' }),
      { kind: 'rejected', reason: 'bad recipient' },
    ],
    [
      '302',
      () => new Response(null, { status: 302, statusText: 'Found', headers: { Location: '/elsewhere' } }),
      { kind: 'broken', reason: 'HTTP 302 Found (unexpected answer; is the URL right?)' },
    ],
  ] as const)('classifies %s', async (_, answer, outcome) => {
    expect(await send(answer, TOKEN)).toEqual(outcome);
  });

  it('classifies fetch failures', async () => {
    const provider = (error: unknown) =>
      new HttpProvider('relay', { url: 'https://relay.example.com/send', token: TOKEN }, failingFetch(error));
    expect((await provider(netError('ENOTFOUND')).send(email)).kind).toBe('down');
    expect((await provider(new DOMException('timeout', 'TimeoutError')).send(email)).kind).toBe('ambiguous');
  });

  it('refuses a URL it cannot POST to, or a bad timeout', () => {
    expect(() => new HttpProvider('relay', { url: 'not a url' })).toThrow();
    expect(() => new HttpProvider('relay', { url: 'ftp://relay.example.com/' })).toThrow(/http: or https:/);
    expect(() => new HttpProvider('relay', { url: 'https://relay.example.com/', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
