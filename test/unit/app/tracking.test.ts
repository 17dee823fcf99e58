import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTrackingHandler, isOneClick } from '../../../functions/app/tracking';
import { sign } from '../../../functions/core/signing';
import { StaticSigningKeys } from '../../../functions/store/secrets';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemorySuppression } from '../../support/fakes';

const ring = { current: 'k1', keys: { k1: 'unsubscribe-key-0123456789abcdef01234' } };
const token = sign({ a: 'user@example.org', c: 'newsletter', m: 'msg-1' }, ring);
let suppression: MemorySuppression;
let handler: ReturnType<typeof createTrackingHandler>;

beforeEach(() => {
  suppression = new MemorySuppression();
  handler = createTrackingHandler({
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
