import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTrackingHandler, isOneClick } from '../../../functions/app/tracking';
import { sign } from '../../../functions/core/signing';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryMessageStore, MemorySuppression } from '../../support/fakes';
import { record } from '../../support/records';

const ring = { current: 'k1', keys: { k1: 'unsubscribe-key-0123456789abcdef01234' } };
const token = sign({ a: 'user@example.org', c: 'newsletter', m: 'msg-1' }, ring);
let suppression: MemorySuppression;
let messages: MemoryMessageStore;
let handler: ReturnType<typeof createTrackingHandler>;
const NOW_S = Date.parse('2026-11-22T12:00:00Z') / 1000;

beforeEach(() => {
  suppression = new MemorySuppression();
  messages = new MemoryMessageStore();
  messages.items.set('msg-1', record('msg-1'));
  handler = createTrackingHandler({
    messages,
    suppression,
    keys: new StaticSigningKeys(ring),
    now: () => new Date('2026-11-22T12:00:00Z'),
  });
});

async function call(method: 'GET' | 'POST', t: string, body?: string, type = 'application/x-www-form-urlencoded') {
  const event = httpEvent(`${method} /u/{token}`, {
    path: { token: t },
    headers: { 'content-type': type },
    ...(body === undefined ? {} : { body }),
  });
  return (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
}

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
async function hit(route: 'GET /o/{token}' | 'GET /c/{token}' | 'HEAD /c/{token}', t: string, userAgent = CHROME) {
  const event = httpEvent(route, { path: { token: t }, headers: { 'user-agent': userAgent } });
  return (await handler(event, lambdaContext())) as APIGatewayProxyStructuredResultV2;
}
const openToken = (m = 'msg-1') => sign({ k: 'o', m, s: NOW_S - 3600 }, ring);
const clickToken = (u = 'https://shop.example.com/sale?x=1#top', s = NOW_S - 3600) =>
  sign({ k: 'c', m: 'msg-1', i: 2, u, s }, ring);

describe('open pixel', () => {
  it("answers a never-cached 1x1 GIF and records a person's open", async () => {
    const res = await hit('GET /o/{token}', openToken());
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(true);
    expect(
      Buffer.from(res.body ?? '', 'base64')
        .subarray(0, 6)
        .toString(),
    ).toBe('GIF89a');
    expect(res.headers).toMatchObject({
      'content-type': 'image/gif',
      'cache-control': 'no-store, no-cache, must-revalidate, max-age=0',
      pragma: 'no-cache',
      expires: '0',
    });
    expect(messages.items.get('msg-1')).toMatchObject({
      opens: 1,
      machineOpens: 0,
      firstOpenAt: '2026-11-22T12:00:00.000Z',
    });
    expect(messages.items.get('msg-1')?.events.at(-1)).toMatchObject({ type: 'opened' });
  });

  it('answers the same for an unknown or forged token (no oracle) and records nothing', async () => {
    const good = await hit('GET /o/{token}', openToken());
    for (const t of [openToken('unknown-id'), 'garbage', openToken().slice(0, -4)]) {
      const res = await hit('GET /o/{token}', t);
      expect(res).toEqual(good);
    }
    expect(messages.items.get('msg-1')?.opens).toBe(1);
  });

  it('counts an image proxy apart as a machine open', async () => {
    await hit('GET /o/{token}', openToken(), 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)');
    expect(messages.items.get('msg-1')).toMatchObject({ opens: 0, machineOpens: 1 });
    expect(messages.items.get('msg-1')?.firstOpenAt).toBeUndefined();
    expect(messages.items.get('msg-1')?.events.at(-1)?.detail).toMatchObject({
      machine: true,
      machineReason: 'image proxy',
    });
  });
});

describe('click redirect', () => {
  it("answers 302 to the signed URL and records a person's click with its index and URL", async () => {
    const res = await hit('GET /c/{token}', clickToken());
    expect(res.statusCode).toBe(302);
    expect(res.headers?.location).toBe('https://shop.example.com/sale?x=1#top');
    // Its body is a short HTML note with the link, and says so: no JSON content type.
    expect(res.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<a href="https://shop.example.com/sale?x=1#top">');
    expect(res.headers?.['cache-control']).toBe('no-store');
    expect(messages.items.get('msg-1')).toMatchObject({ clicks: 1, firstClickAt: '2026-11-22T12:00:00.000Z' });
    expect(messages.items.get('msg-1')?.events.at(-1)).toMatchObject({
      type: 'clicked',
      detail: { index: 2, url: 'https://shop.example.com/sale?x=1#top' },
    });
  });

  it('never redirects for a tampered, truncated or unsigned link', async () => {
    const t = clickToken();
    const [kid, , mac] = t.split('.');
    const evil = Buffer.from(JSON.stringify({ k: 'c', m: 'msg-1', i: 0, u: 'https://evil.example', s: 0 })).toString(
      'base64url',
    );
    for (const bad of [`${kid}.${evil}.${mac}`, t.slice(0, -1), t.slice(0, 20), 'https://evil.example', openToken()]) {
      const res = await hit('GET /c/{token}', bad);
      expect(res.statusCode).toBe(400);
      expect(res.headers?.location).toBeUndefined();
    }
    expect(messages.items.get('msg-1')?.clicks).toBe(0);
  });

  it('redirects HEAD requests and scanners too, counted as machine clicks', async () => {
    expect((await hit('HEAD /c/{token}', clickToken())).statusCode).toBe(302);
    expect(
      (await hit('GET /c/{token}', clickToken(), 'Mozilla/5.0 (compatible; Proofpoint URL Defense)')).statusCode,
    ).toBe(302);
    expect((await hit('GET /c/{token}', clickToken(undefined, NOW_S - 2))).statusCode).toBe(302);
    expect(messages.items.get('msg-1')).toMatchObject({ clicks: 0, machineClicks: 3 });
  });
});

describe('one-click unsubscribe', () => {
  it('POST with List-Unsubscribe=One-Click unsubscribes that address from that category, 200, no redirect', async () => {
    const res = await call('POST', token, 'List-Unsubscribe=One-Click');
    expect(res.statusCode).toBe(200);
    expect(res.headers).not.toHaveProperty('location');
    expect(suppression.records.get('user@example.org|newsletter')).toMatchObject({
      reason: 'unsubscribe',
      active: true,
      messageId: 'msg-1',
    });
    expect(suppression.records.has('user@example.org|*')).toBe(false);
  });

  it('accepts multipart/form-data as RFC 8058 prefers', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n';
    const res = await call('POST', token, body, 'multipart/form-data; boundary=b');
    expect(res.statusCode).toBe(200);
    expect(suppression.records.get('user@example.org|newsletter')?.active).toBe(true);
  });

  it('GET shows a confirm page and never unsubscribes (mail scanners fetch links)', async () => {
    const res = await call('GET', token);
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/<form method="post">/);
    expect(suppression.records.size).toBe(0);
  });

  it('answers a forged or truncated token with a 400 page and changes nothing', async () => {
    const forged = sign(
      { a: 'victim@example.org', c: 'newsletter', m: 'x' },
      { current: 'k1', keys: { k1: 'attacker-key-0123456789abcdef0123456' } },
    );
    for (const t of [forged, token.slice(0, -3), 'garbage']) {
      const res = await call('POST', t, 'List-Unsubscribe=One-Click');
      expect(res.statusCode).toBe(400);
      expect(res.headers?.['content-type']).toMatch(/text\/html/);
    }
    expect(suppression.records.size).toBe(0);
  });

  it('is idempotent when replayed', async () => {
    await call('POST', token, 'List-Unsubscribe=One-Click');
    const res = await call('POST', token, 'List-Unsubscribe=One-Click');
    expect(res.statusCode).toBe(200);
    expect(suppression.records.size).toBe(1);
  });

  it('refuses a POST that does not ask to unsubscribe', async () => {
    expect((await call('POST', token, 'foo=bar')).statusCode).toBe(400);
    expect(suppression.records.size).toBe(0);
  });

  it('never accepts a token for transactional mail or for all mail', async () => {
    for (const c of ['transactional', '*']) {
      const t = sign({ a: 'user@example.org', c, m: 'x' }, ring);
      expect((await call('POST', t, 'List-Unsubscribe=One-Click')).statusCode).toBe(400);
    }
  });
});

describe('isOneClick', () => {
  it('reads urlencoded and multipart bodies', () => {
    expect(isOneClick('List-Unsubscribe=One-Click')).toBe(true);
    expect(isOneClick('a=b&List-Unsubscribe=One-Click')).toBe(true);
    expect(isOneClick('List-Unsubscribe=Other')).toBe(false);
    expect(isOneClick(undefined)).toBe(false);
  });
});
