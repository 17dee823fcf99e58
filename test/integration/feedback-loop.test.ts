import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { sesFixture } from '../support/fixtures';
import { api, drained, eventually, inbox, runCli, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;

useLocalStack((s) => {
  stack = s;
});

const email = (to: string, subject: string, extra: Record<string, unknown> = {}) => ({
  from: 'app@example.com',
  to,
  subject,
  text: 'Hello',
  ...extra,
});

/** Publishes saved notifications with the real CLI, as a developer would. */
async function replay(...notifications: object[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ses-replay-'));
  const files = notifications.map((n, i) => {
    const f = join(dir, `n${i}.json`);
    writeFileSync(f, JSON.stringify(n));
    return f;
  });
  const { stdout } = await runCli(
    'ses-replay.ts',
    [...files, '--endpoint', stack.awsEndpoint, '--topic-arn', stack.sesEventsTopicArn],
    process.cwd(),
  );
  return stdout;
}

async function suppressionItems(address: string) {
  const out = await stack.clients.dynamodb.send(
    new QueryCommand({
      TableName: stack.tables.suppression,
      KeyConditionExpression: 'address = :a',
      ExpressionAttributeValues: { ':a': { S: address } },
    }),
  );
  return out.Items ?? [];
}

describe('the SES feedback loop on the local stack', () => {
  it('a send to the bounce simulator ends bounced, suppresses the address, and the next send is never sent', async () => {
    const target = 'bounce@simulator.amazonses.com';
    const first = await api(stack, 'POST', '/v1/emails', email(target, 'bounce-1'));
    const view = await statusOf(stack, first.body.id, 'bounced');
    expect(view.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'sent', 'bounced']);
    const listed = await api(stack, 'GET', `/v1/suppressions/${target}`);
    expect(listed).toMatchObject({
      status: 200,
      body: {
        address: target,
        suppressions: [{ scope: '*', reason: 'hard_bounce', source: 'ses', messageId: first.body.id }],
      },
    });
    expect(listed.body.suppressions[0].detail.diagnosticCode).toMatch(/550/);

    const second = await api(stack, 'POST', '/v1/emails', email(target, 'bounce-2'));
    await statusOf(stack, second.body.id, 'suppressed');
    await drained(stack);
    expect((await inbox(stack)).filter((e) => e.subject === 'bounce-2')).toHaveLength(0);
  });

  it('success ends delivered; complaint ends complained and suppressed', async () => {
    const ok = await api(stack, 'POST', '/v1/emails', email('success@simulator.amazonses.com', 'ok-1'));
    await statusOf(stack, ok.body.id, 'delivered');
    const c = await api(stack, 'POST', '/v1/emails', email('complaint@simulator.amazonses.com', 'complaint-1'));
    const view = await statusOf(stack, c.body.id, 'complained');
    expect(view.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'sent', 'delivered', 'complained']);
    const s = await api(stack, 'GET', '/v1/suppressions/complaint@simulator.amazonses.com');
    expect(s.body.suppressions[0].reason).toBe('complaint');
  });

  it('manages the suppression list: add, read, list, lift; addresses normalised', async () => {
    const put = await api(stack, 'PUT', '/v1/suppressions/%20Manual@Example.ORG', { note: 'asked by phone' });
    expect(put).toMatchObject({ status: 200, body: { address: 'manual@example.org', scope: '*', reason: 'manual' } });
    expect((await api(stack, 'GET', '/v1/suppressions/manual@example.org')).status).toBe(200);
    const listed = await api(stack, 'GET', '/v1/suppressions?limit=100');
    expect(listed.body.data.map((d: { address: string }) => d.address)).toContain('manual@example.org');
    expect((await api(stack, 'DELETE', '/v1/suppressions/MANUAL@example.org')).status).toBe(200);
    expect((await api(stack, 'GET', '/v1/suppressions/manual@example.org')).status).toBe(404);
    expect((await api(stack, 'DELETE', '/v1/suppressions/manual@example.org')).status).toBe(404);
    expect((await api(stack, 'GET', '/v1/suppressions/not-an-address')).status).toBe(422);
    expect((await api(stack, 'GET', '/v1/suppressions?cursor=bogus')).status).toBe(422);
  });

  it('pages through the list', async () => {
    for (let i = 0; i < 5; i++) await api(stack, 'PUT', `/v1/suppressions/page${i}@example.org`);
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (let n = 0; n < 20; n++) {
      const page: { body: { data: { address: string }[]; next: string | null } } = await api(
        stack,
        'GET',
        `/v1/suppressions?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      for (const d of page.body.data) seen.add(d.address);
      cursor = page.body.next;
      if (!cursor) break;
    }
    for (let i = 0; i < 5; i++) expect(seen).toContain(`page${i}@example.org`);
  });

  it('one-click unsubscribe from the List-Unsubscribe header stops that category only', async () => {
    const to = 'reader@example.org';
    const news = await api(stack, 'POST', '/v1/emails', email(to, 'news-1', { category: 'newsletter' }));
    await statusOf(stack, news.body.id, 'sent');
    const received = (await inbox(stack)).find((e) => e.subject === 'news-1');
    const header = received?.headers?.find((h) => h.name === 'List-Unsubscribe')?.value ?? '';
    expect(received?.headers).toContainEqual({ name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' });
    const url = /^<(.+)>$/.exec(header)?.[1] ?? '';
    expect(url.startsWith(`${stack.apiUrl}/u/`)).toBe(true);

    // A scanner's GET changes nothing.
    expect((await fetch(url)).status).toBe(200);
    expect((await api(stack, 'GET', `/v1/suppressions/${to}`)).status).toBe(404);

    // The mailbox provider's one-click POST, as RFC 8058 describes it.
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
      redirect: 'manual',
    });
    expect(res.status).toBe(200);
    const s = await api(stack, 'GET', `/v1/suppressions/${to}`);
    expect(s.body.suppressions).toEqual([expect.objectContaining({ scope: 'newsletter', reason: 'unsubscribe' })]);

    const again = await api(stack, 'POST', '/v1/emails', email(to, 'news-2', { category: 'newsletter' }));
    const reset = await api(stack, 'POST', '/v1/emails', email(to, 'reset-1'));
    const promo = await api(stack, 'POST', '/v1/emails', email(to, 'promo-1', { category: 'promotions' }));
    await statusOf(stack, again.body.id, 'suppressed');
    await statusOf(stack, reset.body.id, 'sent');
    await statusOf(stack, promo.body.id, 'sent');

    // A tampered link is refused with a 400 page.
    const tampered = `${url.slice(0, -2)}${url.endsWith('A') ? 'B' : 'A'}${url.slice(-1)}`;
    expect((await fetch(tampered, { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status).toBe(400);
  });

  it('ses:replay: a notification replayed 5 times makes one suppression and one event', async () => {
    const sent = await api(stack, 'POST', '/v1/emails', email('replayed@example.org', 'replay-1'));
    await statusOf(stack, sent.body.id, 'sent');
    const bounce = sesFixture('event-bounce-permanent.json', sent.body.id);
    Object.assign((bounce.bounce as { bouncedRecipients: object[] }).bouncedRecipients[0] as object, {
      emailAddress: 'replayed@example.org',
    });
    const out = await replay(bounce, bounce, bounce, bounce, bounce);
    expect(out).toMatch(/published .* Bounce for SES message/);
    const view = await statusOf(stack, sent.body.id, 'bounced');
    // Every replayed copy has been processed, not only the first.
    await drained(stack);
    const after = await api(stack, 'GET', `/v1/emails/${sent.body.id}`);
    expect(after.body.events.filter((e: { type: string }) => e.type === 'bounced')).toHaveLength(1);
    expect(view.status).toBe('bounced');
    expect(await suppressionItems('replayed@example.org')).toHaveLength(1);
  });

  it('a replayed bounce from before a re-enable does not suppress again; a late Delivery keeps bounced', async () => {
    const sent = await api(stack, 'POST', '/v1/emails', email('comeback@example.org', 'comeback-1'));
    await statusOf(stack, sent.body.id, 'sent');
    const bounce = sesFixture('event-bounce-permanent.json', sent.body.id);
    const b = bounce.bounce as { bouncedRecipients: { emailAddress: string }[]; timestamp: string; feedbackId: string };
    b.bouncedRecipients[0] = { ...b.bouncedRecipients[0], emailAddress: 'comeback@example.org' };
    b.timestamp = new Date(Date.now() - 60_000).toISOString();
    b.feedbackId = 'comeback-feedback-1';
    await replay(bounce);
    await statusOf(stack, sent.body.id, 'bounced');
    expect((await api(stack, 'DELETE', '/v1/suppressions/comeback@example.org')).status).toBe(200);

    b.feedbackId = 'comeback-feedback-1-redelivered';
    await replay(bounce, sesFixture('event-delivery.json', sent.body.id));
    await eventually(async () => {
      const v = await api(stack, 'GET', `/v1/emails/${sent.body.id}`);
      return v.body.events.some((e: { type: string }) => e.type === 'delivered') ? v : undefined;
    }, 'the late delivery event');
    expect((await api(stack, 'GET', '/v1/suppressions/comeback@example.org')).status).toBe(404);
    expect((await api(stack, 'GET', `/v1/emails/${sent.body.id}`)).body.status).toBe('bounced');
  });
});
