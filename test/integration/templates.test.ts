/**
 * Templates on the local stack, as a user meets them: the seeded examples rendered into the inbox,
 * publish and rollback, a canary split (the draws scripted), its automatic rollback on bounces, and
 * a batch with one missing variable refused whole.
 */
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { api, eventually, inbox, useLocalStack } from '../support/local';

let stack: LocalStack;
/** The canary draws the ingest function takes, in order; 0.99 (the active version) when none is left. */
const draws: number[] = [];
useLocalStack(
  (s) => {
    stack = s;
  },
  { seedTemplates: true, templateRandom: () => draws.shift() ?? 0.99 },
);

const receiptVars = { name: 'Jane <3', orderId: 'A-1001', items: [{ name: 'Tea', price: 4.5 }], total: 4.5 };
const send = (slug: string, variables: Record<string, unknown>, to = 'jane@example.org') =>
  api(stack, 'POST', '/v1/emails', { from: 'shop@example.com', to, template: { slug, variables } });

describe('templates on the local stack', () => {
  it('renders a seeded template with its layout into the inbox, and the status shows its version', async () => {
    const res = await send('receipt', receiptVars);
    expect(res.status).toBe(202);
    const mail = await eventually(
      async () => (await inbox(stack)).find((m) => m.subject === 'Your receipt for order A-1001'),
      'the receipt in the inbox',
    );
    expect(mail.body.html).toContain('<p>Hi Jane &lt;3,</p>');
    expect(mail.body.html).toContain('<header><strong>Acme</strong></header>');
    expect(mail.body.text).toContain('- Tea: 4.5 USD');
    const status = await api(stack, 'GET', `/v1/emails/${res.body.id}`);
    expect(status.body.template).toEqual({ slug: 'receipt', version: 1 });
  });

  it('refuses a version that needs a new variable at send and in preview, naming it; one call rolls back', async () => {
    const edit = await api(stack, 'PUT', '/v1/templates/password-reset', {
      subject: 'Reset your password, {{ name }} ({{ ticket }})',
      variables: [
        { name: 'name', type: 'string' },
        { name: 'resetUrl', type: 'string' },
        { name: 'expiresInMinutes', type: 'number', default: 30 },
        { name: 'ticket', type: 'string' },
      ],
    });
    expect(edit.status).toBe(200);
    const published = await api(stack, 'POST', '/v1/templates/password-reset/publish');
    expect(published.body).toMatchObject({ version: 2, active: false });
    expect((await api(stack, 'POST', '/v1/templates/password-reset/activate', { version: 2 })).status).toBe(200);

    const vars = { name: 'Jo', resetUrl: 'https://example.com/r/1' };
    const refused = await send('password-reset', vars);
    expect(refused.status).toBe(422);
    expect(refused.body.error.details).toEqual([
      { path: 'template.variables.ticket', message: '"ticket" is required (a string)' },
    ]);
    const preview = await api(stack, 'POST', '/v1/templates/password-reset/render', { version: 2, variables: vars });
    expect(preview.status).toBe(200);
    expect(preview.body.ok).toBe(false);
    expect(preview.body.errors).toEqual([{ path: 'variables.ticket', message: '"ticket" is required (a string)' }]);
    expect(preview.body.expects.reads).toContain('ticket');

    const rollback = await api(stack, 'POST', '/v1/templates/password-reset/activate', { version: 1 });
    expect(rollback.body.activeVersion).toBe(1);
    const again = await send('password-reset', vars);
    expect(again.status).toBe(202);
    expect((await api(stack, 'GET', `/v1/emails/${again.body.id}`)).body.template).toEqual({
      slug: 'password-reset',
      version: 1,
    });
  });

  it('splits sends between a canary and the active version by the draws, counting each version', async () => {
    expect(
      (await api(stack, 'PUT', '/v1/templates/receipt', { subject: 'Receipt {{ orderId }}, thank you' })).status,
    ).toBe(200);
    expect((await api(stack, 'POST', '/v1/templates/receipt/publish')).body.version).toBe(2);
    const canary = await api(stack, 'POST', '/v1/templates/receipt/activate', {
      version: 2,
      canary: { percent: 10, minSends: 1000 },
    });
    expect(canary.body).toMatchObject({ activeVersion: 1, canary: { version: 2, percent: 10 } });
    const before = (await api(stack, 'GET', '/v1/templates/receipt')).body.counts;

    draws.push(0.05, 0.5, 0.09, 0.1);
    const versions: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await send('receipt', receiptVars);
      versions.push((await api(stack, 'GET', `/v1/emails/${res.body.id}`)).body.template.version);
    }
    expect(versions).toEqual([2, 1, 2, 1]);
    const after = (await api(stack, 'GET', '/v1/templates/receipt')).body.counts;
    expect(after['2'].sends).toBe(2);
    expect(after['1'].sends - before['1'].sends).toBe(2);

    const promoted = await api(stack, 'POST', '/v1/templates/receipt/canary/promote');
    expect(promoted.body).toMatchObject({ activeVersion: 2, canary: null });
    expect((await api(stack, 'POST', '/v1/templates/receipt/canary/rollback')).status).toBe(409);
  });

  it('rolls a canary back by itself when its bounce rate passes the active version’s', async () => {
    const base = {
      slug: 'promo',
      name: 'Promo',
      subject: 'News for {{ name }}',
      text: 'Hello {{ name }}',
      variables: [{ name: 'name', type: 'string' }],
    };
    expect((await api(stack, 'POST', '/v1/templates', base)).status).toBe(201);
    await api(stack, 'POST', '/v1/templates/promo/publish');
    await api(stack, 'PUT', '/v1/templates/promo', { text: 'Hi again {{ name }}' });
    await api(stack, 'POST', '/v1/templates/promo/publish');
    await api(stack, 'POST', '/v1/templates/promo/activate', {
      version: 2,
      canary: { percent: 50, minSends: 2, margin: 0.1 },
    });
    draws.push(0.1, 0.2);
    for (let i = 0; i < 2; i++)
      expect((await send('promo', { name: 'X' }, 'bounce@simulator.amazonses.com')).status).toBe(202);
    const head = await eventually(async () => {
      const h = (await api(stack, 'GET', '/v1/templates/promo')).body;
      return h.canary === null ? h : undefined;
    }, 'the canary rolled back');
    expect(head.activeVersion).toBe(1);
    // The rollback may come with the first bounce (one in two sends is past the margin); both are counted.
    await eventually(async () => {
      const versions = (await api(stack, 'GET', '/v1/templates/promo/versions')).body.data;
      return versions.find((v: { version: number }) => v.version === 2).counts.bounces === 2 ? true : undefined;
    }, 'both bounces counted for version 2');
  });

  it('refuses a batch whole when one email misses a variable, naming its path', async () => {
    const before = (await api(stack, 'GET', '/v1/templates/password-reset/versions')).body.data[1].counts.sends;
    const email = (variables: Record<string, unknown>) => ({
      from: 'app@example.com',
      to: 'user@example.org',
      template: { slug: 'password-reset', variables },
    });
    const res = await api(stack, 'POST', '/v1/emails/batch', {
      emails: [
        email({ name: 'A', resetUrl: 'https://example.com/a' }),
        email({ name: 'B', resetUrl: 'https://example.com/b' }),
        email({ resetUrl: 'https://example.com/c' }),
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: 'emails.2.template.variables.name', message: '"name" is required (a string)' },
    ]);
    const after = (await api(stack, 'GET', '/v1/templates/password-reset/versions')).body.data[1].counts;
    expect(after.sends).toBe(before);
    expect(after.renderFailures).toBeGreaterThanOrEqual(1);
  });
});
