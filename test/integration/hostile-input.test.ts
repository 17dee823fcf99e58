/**
 * Hostile input, on the local stack over HTTP, generated anew on every run (fast-check prints the
 * seed of a failure to replay it): never a 5xx, never a redirect from a link that mailroute did not
 * sign, never a half-written side effect.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { sign } from '../../functions/core/signing';
import { api, eventually, inbox, useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack((s) => {
  stack = s;
});

/** Ids of every email the API accepted during this file, to check side effects at the end. */
const accepted: string[] = [];
const OK = 202;
const CLIENT_ERRORS = [400, 401, 403, 404, 409, 413, 415, 422];

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as { id?: string; data?: { id: string }[] }) : undefined;
  if (res.status === OK) accepted.push(...(json?.id ? [json.id] : (json?.data ?? []).map((d) => d.id)));
  return { status: res.status, body: json };
}

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    'a@b.example\r\nBcc: victim@example.org',
    'x\nSubject: hi',
    '\u0000',
    '"',
    '<',
    'ünïcödé@example.com',
    '',
  ),
);
const address = fc.oneof(
  fc.constantFrom(
    'user@example.org',
    'Jane <jane@example.org>',
    '"Doe, Jane" <jane@example.org>',
    'user@bücher.example',
  ),
  nasty,
  fc.emailAddress(),
);
const emailBody = fc.record(
  {
    from: fc.oneof(fc.constant('app@example.com'), address),
    to: fc.oneof(address, fc.array(address, { maxLength: 4 }), fc.anything()),
    cc: fc.oneof(address, fc.array(address, { maxLength: 3 })),
    subject: fc.oneof(fc.string({ maxLength: 40 }), nasty),
    html: fc.oneof(fc.string({ maxLength: 200 }), fc.constant('<p><a href="https://example.org/x">x</a></p>')),
    text: fc.string({ maxLength: 100 }),
    headers: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constant('X-Ref')), nasty, { maxKeys: 4 }),
    tags: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    category: fc.oneof(fc.constant('transactional'), fc.string({ maxLength: 10 })),
    track: fc.anything(),
    unknownField: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('hostile input on the API', () => {
  it('answers any email body with 202 or a clear 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(emailBody, fc.anything()), async (body) => {
        const res = await post('/v1/emails', body);
        expect([OK, ...CLIENT_ERRORS]).toContain(res.status);
      }),
      { numRuns: 150 },
    );
  });

  it('answers any raw body, batch or Idempotency-Key with 202 or a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.json()),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 300 })),
        async (raw, key) => {
          const headers: Record<string, string> = {};
          if (key !== undefined) headers['idempotency-key'] = key.replace(/[\r\n\0]/g, '');
          const a = await post('/v1/emails', raw, headers);
          const b = await post('/v1/emails/batch', raw, headers);
          expect([OK, ...CLIENT_ERRORS]).toContain(a.status);
          expect([OK, ...CLIENT_ERRORS]).toContain(b.status);
        },
      ),
      { numRuns: 100 },
    );
    const batch = await post('/v1/emails/batch', { emails: fc.sample(emailBody, 20) });
    expect([OK, ...CLIENT_ERRORS]).toContain(batch.status);
  });

  it('answers any path parameter and Authorization header with a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), fc.string({ maxLength: 80 }), async (segment, auth) => {
        const p = encodeURIComponent(segment) || 'x';
        for (const path of [`/v1/emails/${p}`, `/v1/suppressions/${p}`]) {
          const res = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
          expect([200, 404, 422]).toContain(res.status);
        }
        const res = await fetch(`${stack.apiUrl}/v1/emails/x`, {
          headers: { authorization: auth.replace(/[^\x20-\x7e]/g, '') },
        });
        expect(res.status).toBe(401);
      }),
      { numRuns: 100 },
    );
  });
});

describe('header injection and limits', () => {
  const base = { from: 'app@example.com', to: 'user@example.org', subject: 'limits', text: 'x' };
  it.each([
    ['CR/LF in the subject', { subject: 'Hi\r\nBcc: victim@example.org' }],
    ['CR/LF in a display name', { from: '"Evil\r\nBcc: v@example.org" <app@example.com>' }],
    ['CR/LF in an address', { to: 'user@example.org\r\nBcc: victim@example.org' }],
    ['CR/LF in a custom header', { headers: { 'X-Ref': 'a\r\nBcc: victim@example.org' } }],
    ['LF alone in a custom header', { headers: { 'X-Ref': 'a\nBcc: victim@example.org' } }],
    ['a reserved header', { headers: { Bcc: 'victim@example.org' } }],
    ['more than 50 recipients', { to: Array.from({ length: 51 }, (_, i) => `u${i}@example.org`) }],
    [
      'more than 12 custom headers',
      { headers: Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`X-H${i}`, 'v'])) },
    ],
    ['a header value over 995 characters', { headers: { 'X-Ref': 'a'.repeat(996) } }],
    ['a non-ASCII local part', { to: 'jürgen@example.org' }],
    ['an unknown field', { htmll: '<p>typo</p>' }],
  ])('refuses %s with a 422 and its path', async (_name, patch) => {
    const res = await post('/v1/emails', { ...base, ...patch });
    expect(res.status).toBe(422);
    expect((res.body as unknown as { error: { details: unknown[] } }).error.details.length).toBeGreaterThan(0);
  });

  it('refuses a body over the queue limit with 413 and a batch over 100 with 422', async () => {
    expect((await post('/v1/emails', { ...base, text: 'x'.repeat(1_100_000) })).status).toBe(413);
    expect((await post('/v1/emails/batch', { emails: Array(101).fill(base) })).status).toBe(422);
  });

  it('sends characters SQS would refuse raw (emoji, U+FFFF) intact', async () => {
    const subject = 'Deal 😀 \uFFFF \u{10000} ünï';
    const res = await post('/v1/emails', { ...base, subject, text: 'x 🎉' });
    expect(res.status).toBe(OK);
    const sent = await eventually(async () => (await inbox(stack)).find((e) => e.subject === subject), 'the email');
    expect(sent.body.text).toBe('x 🎉');
  });

  it('accepts what RFC 5322 allows: punycode domains, quoted local parts, display names with commas', async () => {
    const res = await post('/v1/emails', {
      ...base,
      subject: 'addresses-ok',
      from: '"Acme, Inc." <app@example.com>',
      to: ['user@bücher.example', '"john doe"@example.org'],
    });
    expect(res.status).toBe(OK);
    const sent = await eventually(
      async () => (await inbox(stack)).find((e) => e.subject === 'addresses-ok'),
      'the email',
    );
    expect(sent.destination.to).toEqual(['user@xn--bcher-kva.example', '"john doe"@example.org']);
  });
});

describe('hostile input on the public links', () => {
  it('never redirects or errors on random, truncated or foreign-signed tokens', async () => {
    const real = sign({ k: 'c', m: 'x', i: 0, u: 'https://example.org/', s: 0 }, stack.keyring);
    const foreign = sign(
      { k: 'c', m: 'x', i: 0, u: 'https://evil.example/', s: 0 },
      { current: 'local', keys: { local: 'attacker-key-0123456789abcdef0123456' } },
    );
    const tokens = fc.oneof(
      fc.constantFrom('.', '..', '%2e'),
      fc.string({ maxLength: 200 }),
      fc.base64String({ maxLength: 200 }),
      fc.nat({ max: real.length - 1 }).map((n) => real.slice(0, n)),
      fc.constant(foreign),
    );
    await fc.assert(
      fc.asyncProperty(tokens, async (t) => {
        const token = encodeURIComponent(t) || 'x';
        // A token of dot segments ("." or "..") is removed by URL normalisation before the request
        // leaves, so it reaches no route (404); anything that reaches a route gets the link answer.
        const reachesRoute = !/^(?:\.|%2e){1,2}$/i.test(token);
        const click = await fetch(`${stack.apiUrl}/c/${token}`, { redirect: 'manual' });
        expect(click.status).toBe(reachesRoute ? 400 : 404);
        expect(click.headers.get('location')).toBeNull();
        const unsub = await fetch(`${stack.apiUrl}/u/${token}`, {
          method: 'POST',
          body: 'List-Unsubscribe=One-Click',
          redirect: 'manual',
        });
        expect(unsub.status).toBe(reachesRoute ? 400 : 404);
        const pixel = await fetch(`${stack.apiUrl}/o/${token}`);
        expect(pixel.status).toBe(reachesRoute ? 200 : 404);
        if (reachesRoute) expect(pixel.headers.get('cache-control')).toMatch(/no-store/);
      }),
      { numRuns: 80 },
    );
    // The genuine token still works, and replaying it is harmless.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${stack.apiUrl}/c/${real}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
    }
  });
});

describe('side effects', () => {
  it('leaves no record without a queued message and no message without a record: every accepted email ends in a final state', async () => {
    expect(accepted.length).toBeGreaterThan(0);
    const final = new Set(['sent', 'delivered', 'bounced', 'complained', 'suppressed', 'rejected', 'failed']);
    for (const id of accepted) {
      await eventually(async () => {
        const r = await api(stack, 'GET', `/v1/emails/${id}`);
        return final.has(r.body?.status) ? r : undefined;
      }, `${id} to reach a final state`);
    }
    const scan = await stack.clients.dynamodb.send(
      new ScanCommand({ TableName: stack.tables.messages, Select: 'COUNT' }),
    );
    expect(scan.Count).toBe(accepted.length);
  });
});
