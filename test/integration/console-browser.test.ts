import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../functions/app/console-assets';
import { RETRIES_EXHAUSTED } from '../../functions/core/dispatch';
import { SendEmailBody, toQueuedEmail } from '../../functions/core/email';
import { documentClient } from '../../functions/store/dynamo';
import { DynamoMessageStore } from '../../functions/store/message-store';
import { toQueueBody } from '../../functions/store/sqs';
import { type ChainStack, createKey, startChainStack } from '../support/chain-stack';
import { axeFindings, launchChromium, open, signIn } from '../support/console-browser';
import { api, eventually, queueDepth, statusOf } from '../support/local';
import { record } from '../support/records';
import { type Receiver, startReceiver } from '../support/webhook-receiver';

let chain: ChainStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every URL the console's pages requested (none may leave the API's origin). */
const requested: string[] = [];

beforeAll(async () => {
  chain = await startChainStack();
  browser = await launchChromium();
  context = await browser.newContext();
  context.on('request', (r) => requested.push(r.url()));
  page = await signIn(context, chain.stack.apiUrl, chain.stack.apiKey);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await chain?.stop();
});

const sendForm = () => ({
  from: page.getByLabel('From', { exact: true }),
  to: page.getByLabel('To', { exact: true }),
  subject: page.getByLabel('Subject'),
  text: page.getByLabel('Text'),
  send: page.getByRole('button', { name: 'Send' }),
});

describe('the console page', () => {
  it('is served on the API origin with a strict Content-Security-Policy, and its assets likewise', async () => {
    const res = await fetch(`${chain.stack.apiUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(CONSOLE_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const js = await fetch(`${chain.stack.apiUrl}/console/console.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${chain.stack.apiUrl}/console/nothing.js`)).status).toBe(404);
  });

  it('signs in with the key; the menu shows every page the local (admin) key may use', async () => {
    const links = await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents();
    expect(links).toEqual([
      'Messages',
      'Send a test email',
      'Providers',
      'Suppressions',
      'Streams',
      'Templates',
      'Queues',
      'Webhooks',
    ]);
    await expect(page.getByText('Signed in as local')).toBeTruthy();
    const stored = await page.evaluate(() =>
      (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem(
        'mailroute.apiKey',
      ),
    );
    expect(stored).toBe(chain.stack.apiKey);
  });

  it("follows the key's scopes: a send-only key sees only the send form; a wrong key is refused", async () => {
    const sender = await createKey(chain.stack, 'console-sender', ['send']);
    const other = await browser.newContext();
    try {
      const p = await signIn(other, chain.stack.apiUrl, sender);
      expect(await p.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents()).toEqual([
        'Send a test email',
      ]);
      await p.getByRole('button', { name: 'Sign out' }).click();
      await p.getByLabel('API key').fill('mr_not_a_key_at_all');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => p.locator('#signin-error').textContent()).toBe('That key was not accepted.');
    } finally {
      await other.close();
    }
  });
});

describe('the send form', () => {
  it('sends a test email, shows it reaching sent, and keeps its fields', async () => {
    await open(page, 'send', 'Send a test email');
    const f = sendForm();
    await f.to.fill('reader@example.org');
    await f.subject.fill('console-send-1');
    await f.text.fill('Hello from the console');
    await f.send.click();
    await expect.poll(() => page.locator('#sent-status').textContent(), { timeout: 20_000 }).toBe('sent');
    const id = (await page.locator('#send-outcome a').textContent()) ?? '';
    expect((await api(chain.stack, 'GET', `/v1/emails/${id}`)).body).toMatchObject({
      status: 'sent',
      subject: 'console-send-1',
      to: ['reader@example.org'],
    });
    // The fields are as they were, ready for the next test email.
    expect(await f.to.inputValue()).toBe('reader@example.org');
    expect(await f.subject.inputValue()).toBe('console-send-1');
    expect(await f.text.inputValue()).toBe('Hello from the console');
  });

  it("shows the API's validation error next to the field it names, and nothing is sent", async () => {
    await open(page, 'send', 'Send a test email');
    const f = sendForm();
    await f.to.fill('not an address');
    await f.subject.fill('console-invalid');
    await f.text.fill('Hello');
    await f.send.click();
    const toError = page.locator('#send-to-error');
    await expect.poll(() => toError.textContent()).not.toBe('');
    expect(await f.to.getAttribute('aria-invalid')).toBe('true');
    // Named by the field's description, as a screen reader announces it.
    expect(await f.to.getAttribute('aria-describedby')).toContain('send-to-error');
    expect(await page.locator('#send-subject-error').textContent()).toBe('');
    expect(await f.subject.getAttribute('aria-invalid')).toBeNull();
    expect(await page.locator('#send-outcome').textContent()).toBe('');
    expect(await f.to.inputValue()).toBe('not an address');
  });
});

describe('the providers page', () => {
  it('reorders the chain with the keyboard and saves it; the next email goes to the new first provider', async () => {
    await open(page, 'providers', 'Providers');
    const firstColumn = () => page.locator('tbody tr td:nth-child(2) strong').allTextContents();
    await expect.poll(firstColumn).toEqual(['relay-a', 'relay-b', 'ses']);
    const version = (await api(chain.stack, 'GET', '/v1/settings/providers')).body.version as number;
    await page.getByRole('button', { name: 'Move relay-b up' }).focus();
    await page.keyboard.press('Enter');
    expect(await firstColumn()).toEqual(['relay-b', 'relay-a', 'ses']);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved \(version/).waitFor();
    const saved = (await api(chain.stack, 'GET', '/v1/settings/providers')).body;
    expect(saved).toMatchObject({ chain: ['relay-b', 'relay-a', 'ses'], version: version + 1 });

    // The dispatchers' settings cache must expire before they see the new order.
    await chain.settle();
    await open(page, 'send', 'Send a test email');
    const f = sendForm();
    await f.to.fill('reader@example.org');
    await f.subject.fill('console-after-reorder');
    await f.text.fill('Hello');
    await f.send.click();
    await expect.poll(() => page.locator('#sent-status').textContent(), { timeout: 20_000 }).toBe('sent');
    const id = (await page.locator('#send-outcome a').textContent()) ?? '';
    expect((await statusOf(chain.stack, id, 'sent')).provider).toBe('relay-b');
    expect(chain.b.sent()).toContain(id);
    expect(chain.a.sent()).not.toContain(id);
  });

  it('refuses to overwrite a change saved meanwhile (409), and shows the current settings', async () => {
    await open(page, 'providers', 'Providers');
    await page.getByRole('button', { name: 'Move ses up' }).waitFor();
    // Another operator disables relay-a after this page read the settings.
    const other = await api(chain.stack, 'PUT', '/v1/settings/providers', {
      providers: { 'relay-a': { enabled: false } },
    });
    expect(other.status).toBe(200);
    await page.getByRole('button', { name: 'Move ses up' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/changed since version/).waitFor();
    const now = (await api(chain.stack, 'GET', '/v1/settings/providers')).body;
    expect(now.chain).toEqual(['relay-b', 'relay-a', 'ses']);
    expect(await page.getByLabel('enabled').nth(1).isChecked()).toBe(false);
    // Put relay-a back for the tests after this one.
    expect(
      (await api(chain.stack, 'PUT', '/v1/settings/providers', { providers: { 'relay-a': { enabled: true } } })).status,
    ).toBe(200);
  });
});

describe('the suppressions page', () => {
  it('finds a suppressed address and lifts it', async () => {
    const address = 'lift-me@example.org';
    expect((await api(chain.stack, 'PUT', `/v1/suppressions/${address}`, { note: 'console test' })).status).toBe(200);
    await open(page, 'suppressions', 'Suppressions');
    await page.getByRole('search', { name: 'Find a suppression' }).getByLabel('Address').fill(address);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('button', { name: `Lift ${address} (*)` }).click();
    await page.getByText(`Lifted: ${address} (*) gets mail again.`).waitFor();
    expect((await api(chain.stack, 'GET', `/v1/suppressions/${address}`)).status).toBe(404);
  });
});

describe('the queues page', () => {
  it('shows each queue with its dead letters; a redrive moves an email whose retries ran out back, and it is sent', async () => {
    // An email whose retries ran out, its copy in the transactional DLQ (as the dispatcher leaves it).
    const id = randomUUID();
    const messages = new DynamoMessageStore(documentClient(chain.stack.clients.dynamodb), chain.stack.tables.messages);
    await messages.createMany([
      { ...record(id, { subject: 'console-redrive' }), status: 'failed', reason: `${RETRIES_EXHAUSTED}: relay down` },
    ]);
    const email = SendEmailBody.parse({
      from: 'app@example.com',
      to: 'user@example.org',
      subject: 'console-redrive',
      text: 'x',
    });
    await chain.stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: chain.stack.queues.sendDlq,
        MessageBody: toQueueBody(toQueuedEmail(id, email)),
      }),
    );

    await open(page, 'queues', 'Queues');
    const names = () => page.locator('tbody tr td:first-child').allTextContents();
    await expect.poll(names).toEqual(['critical', 'transactional', 'bulk', 'ses-events']);
    await page.getByRole('button', { name: 'Show dead letters of transactional' }).click();
    const row = page
      .getByRole('table', { name: 'Dead letters of transactional' })
      .getByRole('row', { name: new RegExp(id) });
    await row.waitFor();
    expect(await row.textContent()).toContain('failed');
    // The peek leaves the dead letter where it was.
    expect(await queueDepth(chain.stack, chain.stack.queues.sendDlq)).toBe(1);

    await page.getByRole('button', { name: 'Redrive transactional' }).click();
    await page.getByText('Moved back: 1. Dropped: 0. Left: 0.').waitFor();
    expect((await statusOf(chain.stack, id, 'sent')).provider).toBe('relay-b');
    expect(await queueDepth(chain.stack, chain.stack.queues.sendDlq)).toBe(0);
  });
});

/** A time 20 minutes ahead, as RFC 3339 with an offset (the schedule, not the queue's delay, holds it). */
const inTwentyMinutes = () => new Date(Date.now() + 20 * 60_000).toISOString();

describe('scheduled emails', () => {
  it('the send form schedules an email with "Send at"; its page shows the time and cancels it', async () => {
    await open(page, 'send', 'Send a test email');
    const f = sendForm();
    await f.to.fill('reader@example.org');
    await f.subject.fill('console-scheduled');
    await f.text.fill('Later');
    const at = inTwentyMinutes();
    await page.getByLabel('Send at').fill(at);
    await f.send.click();
    await expect.poll(() => page.locator('#sent-status').textContent()).toBe('scheduled');
    const id = (await page.locator('#send-outcome a').textContent()) ?? '';
    expect((await api(chain.stack, 'GET', `/v1/emails/${id}`)).body).toMatchObject({
      status: 'scheduled',
      scheduledAt: at,
    });

    await page.locator('#send-outcome a').click();
    await page.getByRole('heading', { level: 1, name: `Email ${id}` }).waitFor();
    expect(await page.locator('[data-status]').textContent()).toBe('scheduled');
    await page.getByText('Scheduled for').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('[data-status]').textContent(), { timeout: 10_000 }).toBe('canceled');
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    expect((await api(chain.stack, 'GET', `/v1/emails/${id}`)).body.status).toBe('canceled');
  });

  it('shows the API\'s error for "Send at" next to that field, and nothing is sent', async () => {
    await open(page, 'send', 'Send a test email');
    const f = sendForm();
    await f.to.fill('reader@example.org');
    await f.subject.fill('console-scheduled-invalid');
    await f.text.fill('Later');
    const sendAt = page.getByLabel('Send at');
    await sendAt.fill('tomorrow morning');
    await f.send.click();
    const error = page.locator('#send-scheduledAt-error');
    await expect.poll(() => error.textContent()).toContain('RFC 3339');
    expect(await sendAt.getAttribute('aria-invalid')).toBe('true');
    expect(await sendAt.getAttribute('aria-describedby')).toContain('send-scheduledAt-error');
    expect(await page.locator('#send-to-error').textContent()).toBe('');
    expect(await page.locator('#send-outcome').textContent()).toBe('');
  });

  it('moves a scheduled email to another time from its page', async () => {
    const sent = await api(chain.stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'reader@example.org',
      subject: 'console-reschedule',
      text: 'Later',
      scheduledAt: inTwentyMinutes(),
    });
    expect(sent.status).toBe(202);
    await open(page, `messages/${sent.body.id}`, `Email ${sent.body.id}`);
    const later = new Date(Date.now() + 60 * 60_000).toISOString();
    const field = page.getByRole('form', { name: 'Reschedule' }).getByLabel('Send at');
    await field.fill(later);
    await page.getByRole('button', { name: 'Reschedule' }).click();
    await page.getByText(/^Moved to /).waitFor();
    expect((await api(chain.stack, 'GET', `/v1/emails/${sent.body.id}`)).body).toMatchObject({
      status: 'scheduled',
      scheduledAt: later,
    });
    expect((await api(chain.stack, 'POST', `/v1/emails/${sent.body.id}/cancel`)).status).toBe(200);
  });

  it('says so when the email is no longer scheduled (409), and shows it as it is now', async () => {
    const sent = await api(chain.stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'reader@example.org',
      subject: 'console-cancel-409',
      text: 'Later',
      scheduledAt: inTwentyMinutes(),
    });
    const path = `/v1/emails/${sent.body.id}`;
    await open(page, `messages/${sent.body.id}`, `Email ${sent.body.id}`);
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    // Hold the page's own refreshes, so it still offers to cancel after another operator did.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const matches = (u: URL) => u.pathname === path;
    await page.route(matches, async (route) => {
      if (route.request().method() === 'GET') await held;
      await route.continue();
    });
    try {
      expect((await api(chain.stack, 'POST', `${path}/cancel`)).status).toBe(200);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'The email is canceled; only a scheduled email can be canceled.' })
        .waitFor();
      release();
      await expect.poll(() => page.locator('[data-status]').textContent(), { timeout: 10_000 }).toBe('canceled');
    } finally {
      release();
      await page.unroute(matches);
    }
  });

  it('shows a key that may not send (read and admin) the time, without offering to cancel or move it', async () => {
    const sent = await api(chain.stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to: 'reader@example.org',
      subject: 'console-scheduled-read-only',
      text: 'Later',
      scheduledAt: inTwentyMinutes(),
    });
    const reader = await createKey(chain.stack, 'console-auditor', ['read', 'admin']);
    const other = await browser.newContext();
    try {
      const p = await signIn(other, chain.stack.apiUrl, reader);
      await open(p, `messages/${sent.body.id}`, `Email ${sent.body.id}`);
      await p.getByText('Waiting to be sent at').waitFor();
      expect(await p.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
      expect(await p.getByRole('form', { name: 'Reschedule' }).count()).toBe(0);
    } finally {
      await other.close();
    }
    expect((await api(chain.stack, 'POST', `/v1/emails/${sent.body.id}/cancel`)).status).toBe(200);
  });
});

describe('the webhooks page', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('creates an endpoint (its secret shown once), sends it a test event and lists the delivery as delivered; a replay sends it again', async () => {
    await open(page, 'webhooks', 'Webhooks');
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByLabel('Events').fill('webhook.test');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    const secret = (await page.locator('#webhook-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    const listed = (await api(chain.stack, 'GET', '/v1/webhooks')).body.data as { id: string; url: string }[];
    const endpoint = listed.find((e) => e.url === receiver.url);
    expect(endpoint).toBeDefined();
    // The secret is never shown again.
    expect(JSON.stringify((await api(chain.stack, 'GET', `/v1/webhooks/${endpoint?.id}`)).body)).not.toContain(secret);

    await page.getByRole('button', { name: `Send test event to ${receiver.url}` }).click();
    const deliveries = page.getByRole('table', { name: `Deliveries to ${receiver.url}` });
    const delivered = deliveries.locator('[data-delivery-status="delivered"]');
    await delivered.first().waitFor({ timeout: 30_000 });
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['webhook.test']);
    const row = deliveries.locator('tbody tr').first();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual(['webhook.test', 'delivered', '1', '200']);

    const deliveriesOf = async () =>
      (await api(chain.stack, 'GET', `/v1/webhooks/${endpoint?.id}/deliveries`)).body.data as {
        id: string;
        status: string;
        attempts: number;
        lastAttemptAt: string;
        lastStatusCode: number;
      }[];
    const first = (await deliveriesOf())[0];
    expect(first).toMatchObject({ id: cells[0], status: 'delivered', attempts: 1, lastStatusCode: 200 });

    await row.getByRole('button', { name: `Replay ${cells[0]}` }).click();
    await page.locator('#webhook-status').getByText(`Delivery ${cells[0]} is sent again.`).waitFor();
    await eventually(async () => (receiver.received.length === 2 ? true : undefined), 'the replayed delivery');
    expect(receiver.received[1]?.headers['webhook-id']).toBe(receiver.received[0]?.headers['webhook-id']);
    const again = await eventually(async () => {
      const [d] = await deliveriesOf();
      return d?.status === 'delivered' && d.lastAttemptAt !== first?.lastAttemptAt ? d : undefined;
    }, 'the replay delivered');
    expect(again).toMatchObject({ id: cells[0], attempts: 1, lastStatusCode: 200 });
    // The page follows the replay until it is delivered again.
    await expect
      .poll(() => deliveries.locator('tbody tr').first().locator('td').nth(2).textContent(), { timeout: 20_000 })
      .toBe('delivered');
  });

  it('disables and enables an endpoint', async () => {
    await open(page, 'webhooks', 'Webhooks');
    await page.getByRole('button', { name: `Disable ${receiver.url}` }).click();
    await page.getByRole('button', { name: `Enable ${receiver.url}` }).waitFor();
    const state = async () =>
      ((await api(chain.stack, 'GET', '/v1/webhooks')).body.data as { url: string; enabled: boolean }[]).find(
        (e) => e.url === receiver.url,
      )?.enabled;
    expect(await state()).toBe(false);
    // The keyboard stays on the button it pressed.
    const focused = () =>
      (
        globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }
      ).document.activeElement?.getAttribute('aria-label');
    expect(await page.evaluate(focused)).toBe(`Enable ${receiver.url}`);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: `Disable ${receiver.url}` }).waitFor();
    expect(await state()).toBe(true);
  });

  it("shows the API's error next to the URL field", async () => {
    await open(page, 'webhooks', 'Webhooks');
    const form = page.getByRole('form', { name: 'New webhook endpoint' });
    await form.getByLabel('URL').fill('ftp://example.org/hooks');
    await form.getByRole('button', { name: 'Create endpoint' }).click();
    await expect.poll(() => page.locator('#webhook-url-error').textContent()).not.toBe('');
    expect(await form.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#webhook-secret').count()).toBe(0);
  });
});

describe('accessibility', () => {
  it('has no serious or critical axe-core findings on any page', async () => {
    const audit = await browser.newContext({ bypassCSP: true });
    try {
      const p = await audit.newPage();
      await p.goto(`${chain.stack.apiUrl}/console`);
      await p.getByLabel('API key').waitFor();
      const findings: Record<string, unknown[]> = { 'sign in': await axeFindings(p) };
      await p.getByLabel('API key').fill(chain.stack.apiKey);
      await p.getByRole('button', { name: 'Sign in' }).click();
      const sent = await api(chain.stack, 'POST', '/v1/emails', {
        from: 'app@example.com',
        to: 'reader@example.org',
        subject: 'console-axe',
        text: 'Hello',
      });
      await statusOf(chain.stack, sent.body.id, 'sent');
      const scheduled = await api(chain.stack, 'POST', '/v1/emails', {
        from: 'app@example.com',
        to: 'reader@example.org',
        subject: 'console-axe-scheduled',
        text: 'Later',
        scheduledAt: inTwentyMinutes(),
      });
      const pages: [string, string | RegExp][] = [
        ['messages', 'Messages'],
        [`messages/${sent.body.id}`, /^Email /],
        [`messages/${scheduled.body.id}`, /^Email /],
        ['send', 'Send a test email'],
        ['providers', 'Providers'],
        ['suppressions', 'Suppressions'],
        ['streams', 'Streams'],
        ['templates', 'Templates'],
        ['queues', 'Queues'],
        ['webhooks', 'Webhooks'],
      ];
      for (const [path, heading] of pages) {
        await open(p, path, heading);
        await p.waitForLoadState('networkidle');
        findings[path] = await axeFindings(p);
      }
      expect(Object.entries(findings).filter(([, f]) => f.length > 0)).toEqual([]);
    } finally {
      await audit.close();
    }
  });

  it('never asked anything of another origin', () => {
    const origin = new URL(chain.stack.apiUrl).origin;
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((u) => new URL(u).origin !== origin)).toEqual([]);
  });
});

/** The console's search form finds an email by its recipient, through message search (GET /v1/emails?to=…). */
describe('message search (needs GET /v1/emails search)', () => {
  it('finds the email sent to a recipient, and opens its timeline', async () => {
    const to = `search-${Date.now()}@example.org`;
    const sent = await api(chain.stack, 'POST', '/v1/emails', {
      from: 'app@example.com',
      to,
      subject: 'console-search',
      text: 'Hi',
    });
    await statusOf(chain.stack, sent.body.id, 'sent');
    await open(page, 'messages', 'Messages');
    await page.getByRole('search', { name: 'Search emails' }).getByLabel('To').fill(to);
    await page.getByRole('button', { name: 'Search' }).click();
    const link = page.getByRole('link', { name: sent.body.id });
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.getByRole('heading', { level: 1, name: `Email ${sent.body.id}` }).waitFor();
    await eventually(
      async () => ((await page.locator('[data-status]').textContent()) === 'sent' ? true : undefined),
      'sent',
    );
    expect(await page.getByRole('table', { name: 'Timeline' }).locator('tbody tr').count()).toBeGreaterThan(1);
  });
});
