/**
 * Broadcasts on the local stack: contacts and a list made through the API, a broadcast scheduled a
 * few seconds ahead and paced so it has two pages, paused after its first page and resumed; each
 * consenting contact gets exactly one email in the SES inbox, and the others are counted as skipped
 * (no consent, suppressed).
 */
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { api, eventually, inbox, useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack(
  (s) => {
    stack = s;
  },
  { seedTemplates: true },
);

const address = (i: number) => `reader${i}@example.org`;
/** 14 contacts: 12 consent to the newsletter (one of them suppressed), 2 do not. */
const CONTACTS = 14;
const consents = (i: number) => i !== 3 && i !== 9;
const SUPPRESSED = 5;

describe('broadcasts on the local stack', () => {
  it('a scheduled broadcast, paused after its first page and resumed, reaches each consenting contact once', async () => {
    expect((await api(stack, 'POST', '/v1/lists', { id: 'readers', name: 'Readers' })).status).toBe(201);
    for (let i = 0; i < CONTACTS; i++) {
      const created = await api(stack, 'POST', '/v1/contacts', {
        email: address(i),
        attributes: { first_name: `Reader ${i}` },
        consent: { newsletter: { granted: consents(i) } },
      });
      expect(created.status).toBe(201);
    }
    const members = await api(stack, 'POST', '/v1/lists/readers/members', {
      contacts: Array.from({ length: CONTACTS }, (_, i) => address(i)),
    });
    expect(members.status).toBe(200);
    expect((await api(stack, 'PUT', `/v1/suppressions/${address(SUPPRESSED)}`, { scope: '*' })).status).toBe(200);

    // One email a second: pages of ten, the second ten seconds after the first.
    const created = await api(stack, 'POST', '/v1/broadcasts', {
      name: 'Readers news',
      listId: 'readers',
      template: { slug: 'newsletter' },
      from: 'news@example.com',
      category: 'newsletter',
      pace: 1,
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const at = new Date(Date.now() + 2000).toISOString();
    const scheduled = await api(stack, 'POST', `/v1/broadcasts/${id}/schedule`, { scheduledAt: at });
    expect(scheduled.body).toMatchObject({ state: 'scheduled' });

    // It starts at its time; after its first page, pause it.
    await eventually(async () => {
      const b = await api(stack, 'GET', `/v1/broadcasts/${id}`);
      return b.body.progress.pages >= 1 ? b.body : undefined;
    }, 'the first page');
    const paused = await api(stack, 'POST', `/v1/broadcasts/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ state: 'paused', progress: { pages: 1, done: false } });
    expect((await api(stack, 'POST', `/v1/broadcasts/${id}/pause`)).status).toBe(409);

    const resumed = await api(stack, 'POST', `/v1/broadcasts/${id}/resume`);
    expect(resumed.body).toMatchObject({ state: 'sending' });
    let last: unknown;
    const sent = await eventually(
      async () => {
        const b = await api(stack, 'GET', `/v1/broadcasts/${id}`);
        last = b.body;
        return b.body.state === 'sent' && b.body.counts.sent + b.body.counts.skipped.suppressed === 12
          ? b.body
          : undefined;
      },
      'the broadcast to be sent',
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(last)}`);
    });
    expect(sent.counts).toMatchObject({
      targeted: 12,
      skipped: { no_consent: 2, suppressed: 1, cooldown: 0, render: 0 },
      sent: 11,
    });
    expect(sent.history.map((h: { state: string }) => h.state)).toEqual([
      'draft',
      'scheduled',
      'sending',
      'paused',
      'sending',
      'sent',
    ]);

    const emails = (await inbox(stack)).filter((e) => e.subject === 'News from Acme');
    const to = emails.flatMap((e) => e.destination.to).sort();
    const expected = Array.from({ length: CONTACTS }, (_, i) => i)
      .filter((i) => consents(i) && i !== SUPPRESSED)
      .map(address)
      .sort();
    expect(to).toEqual(expected);
    const ann = emails.find((e) => e.destination.to.includes(address(0)));
    expect(ann?.body.text).toContain('Hi Reader 0,');
    expect(ann?.body.text).toContain(`Sent to ${address(0)}.`);
  }, 90_000);
});
