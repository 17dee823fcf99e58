/**
 * Event-triggered sends on the local stack, as a user meets them: a rule maps `user.signed_up` to a
 * welcome template; the event emitted twice (a retry, with another timestamp) puts one email in the
 * inbox, and a rule with a consent category sends nothing to a contact without that consent.
 */
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { api, drained, inbox, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack((s) => {
  stack = s;
});

describe('events and rules on the local stack', () => {
  it('an event emitted twice sends one welcome email', async () => {
    const template = await api(stack, 'POST', '/v1/templates', {
      slug: 'signup-welcome',
      name: 'Welcome',
      subject: 'Welcome aboard, {{ name }}',
      text: 'Hi {{ name }}, your {{ plan }} plan is ready.',
      variables: [
        { name: 'name', type: 'string' },
        { name: 'plan', type: 'string' },
      ],
    });
    expect(template.status).toBe(201);
    expect((await api(stack, 'POST', '/v1/templates/signup-welcome/publish')).status).toBe(201);
    const rule = await api(stack, 'POST', '/v1/rules', {
      event: 'user.signed_up',
      template: { slug: 'signup-welcome' },
      from: 'Acme <app@example.com>',
      keyFields: ['user_id'],
    });
    expect(rule.status).toBe(201);
    // A rule that needs consent the new contact has not given: skipped, every time.
    const consented = await api(stack, 'POST', '/v1/rules', {
      event: 'user.signed_up',
      template: { slug: 'signup-welcome' },
      from: 'Acme <app@example.com>',
      category: 'product-news',
      consentCategory: 'product-news',
    });
    expect(consented.status).toBe(201);

    const emit = (at: string) =>
      api(stack, 'POST', '/v1/events', {
        name: 'user.signed_up',
        contact: { email: 'Ann@Example.org' },
        data: { user_id: 'u-42', name: 'Ann', plan: 'pro', signed_up_at: at },
      });
    const first = await emit('2026-11-22T10:00:00Z');
    const second = await emit('2026-11-22T10:00:05Z');
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const byRule = (res: { body: { sends: { rule: string; email_id?: string }[] } }, id: string) =>
      res.body.sends.find((s) => s.rule === id);
    expect(byRule(first, rule.body.id)).toMatchObject({ status: 'queued', email_id: expect.stringMatching(/^e-/) });
    expect(byRule(second, rule.body.id)).toEqual({ ...byRule(first, rule.body.id), status: 'duplicate' });
    expect(byRule(first, consented.body.id)).toEqual({
      rule: consented.body.id,
      status: 'skipped',
      reason: 'no_consent',
    });
    expect(second.body.contact).toBe(first.body.contact);

    const emailId = byRule(first, rule.body.id)?.email_id as string;
    await statusOf(stack, emailId, 'sent');
    await drained(stack);
    const welcome = (await inbox(stack)).filter((m) => m.subject === 'Welcome aboard, Ann');
    expect(welcome).toHaveLength(1);
    expect(welcome[0]?.destination.to).toEqual(['ann@example.org']);
    expect(welcome[0]?.body.text).toContain('your pro plan is ready');
  });
});
