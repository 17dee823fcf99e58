/**
 * The real `resend` SDK (npm, unchanged) pointed at the local stack with RESEND_BASE_URL, as an
 * application switching to mailroute would: send, batch (strict and permissive), get, the
 * Idempotency-Key, validation errors in Resend's shape, and mailroute's guarantees behind it
 * (suppression, templates, sender domains).
 */
import { Resend } from 'resend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_API_KEY, type LocalStack } from '../../bin/local-stack';
import { api, eventually, inbox, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;
let resend: Resend;
const previous = process.env.RESEND_BASE_URL;

useLocalStack(
  (s) => {
    stack = s;
  },
  { apiKey: DEFAULT_LOCAL_API_KEY, seedTemplates: true },
);

beforeAll(() => {
  // The SDK reads RESEND_BASE_URL when a client is made, and appends Resend's paths (/emails, …) to it.
  process.env.RESEND_BASE_URL = `${stack.apiUrl}/resend`;
  resend = new Resend(stack.apiKey);
});
afterAll(() => {
  if (previous === undefined) delete process.env.RESEND_BASE_URL;
  else process.env.RESEND_BASE_URL = previous;
});

const inboxWith = async (subject: string) => (await inbox(stack)).filter((e) => e.subject === subject);

describe('the resend SDK against mailroute', () => {
  it('sends an email that reaches the inbox, and reads it back as Resend shows it', async () => {
    const { data, error } = await resend.emails.send({
      from: 'Acme <app@example.com>',
      to: ['jane@example.org'],
      cc: 'cc@example.org',
      replyTo: 'support@example.com',
      subject: 'resend-1',
      html: '<p>Hello</p>',
      text: 'Hello',
      headers: { 'X-Entity-Ref-ID': 'r-1' },
      tags: [{ name: 'kind', value: 'receipt' }],
    });
    expect(error).toBeNull();
    const id = data?.id ?? '';
    await statusOf(stack, id, 'sent');
    const [received] = await eventually(async () => {
      const found = await inboxWith('resend-1');
      return found.length > 0 ? found : undefined;
    }, 'the email in the inbox');
    expect(received?.destination.cc).toEqual(['cc@example.org']);
    expect(received?.headers).toContainEqual({ name: 'X-Entity-Ref-ID', value: 'r-1' });
    const got = await resend.emails.get(id);
    expect(got.error).toBeNull();
    expect(got.data).toMatchObject({
      object: 'email',
      id,
      to: ['jane@example.org'],
      cc: ['cc@example.org'],
      subject: 'resend-1',
      last_event: 'sent',
      tags: [{ name: 'kind', value: 'receipt' }],
    });
    // The same email in mailroute's own API and its search.
    const found = await api(stack, 'GET', '/v1/emails?to=jane@example.org');
    expect(found.body.data.map((e: { id: string }) => e.id)).toContain(id);
  });

  it('honours Idempotency-Key: the same body returns the first id, another body is refused', async () => {
    const email = { from: 'app@example.com', to: 'idem@example.org', subject: 'resend-idem', text: 'Once' };
    const first = await resend.emails.send(email, { idempotencyKey: 'order-77' });
    const again = await resend.emails.send(email, { idempotencyKey: 'order-77' });
    expect(first.error).toBeNull();
    expect(again.data?.id).toBe(first.data?.id);
    const other = await resend.emails.send({ ...email, text: 'Twice' }, { idempotencyKey: 'order-77' });
    expect(other.data).toBeNull();
    expect(other.error).toMatchObject({ name: 'invalid_idempotent_request', statusCode: 409 });
    await statusOf(stack, first.data?.id ?? '', 'sent');
    expect(await inboxWith('resend-idem')).toHaveLength(1);
  });

  it("answers validation errors in Resend's shape, naming the fields as Resend does, and sends nothing", async () => {
    const bad = await resend.emails.send({
      from: 'app@example.com',
      to: 'not-an-address',
      subject: 'resend-invalid',
      text: 'x',
      replyTo: 'nope',
    });
    expect(bad.data).toBeNull();
    expect(bad.error).toMatchObject({ name: 'validation_error', statusCode: 422 });
    expect(bad.error?.message).toContain('`to.0`');
    expect(bad.error?.message).toContain('`reply_to.0`');
    const noBody = await resend.emails.send({ from: 'app@example.com', to: 'a@example.org', subject: 'x' } as never);
    expect(noBody.error).toMatchObject({ name: 'validation_error', statusCode: 422 });
    const scheduled = await resend.emails.send({
      from: 'app@example.com',
      to: 'a@example.org',
      subject: 'resend-scheduled',
      text: 'later',
      scheduledAt: 'in 1 hour',
    });
    expect(scheduled.error?.message).toContain('scheduled_at');
    const badKey = await resend.emails.send(
      { from: 'app@example.com', to: 'a@example.org', subject: 'x', text: 'x' },
      { idempotencyKey: 'x'.repeat(300) },
    );
    expect(badKey.error).toMatchObject({ name: 'invalid_idempotency_key', statusCode: 400 });
    const unknown = await resend.emails.get('00000000-0000-0000-0000-000000000000');
    expect(unknown.error).toMatchObject({ name: 'not_found', statusCode: 404 });
    const wrongKey = await new Resend('mr_not_a_key_at_all').emails.get('x');
    expect(wrongKey.error).toMatchObject({ name: 'invalid_api_key', statusCode: 403 });
    expect(await inboxWith('resend-invalid')).toHaveLength(0);
  });

  it('sends a batch strictly (one invalid email refuses all) or permissively (the valid ones go)', async () => {
    const ok = (n: number) => ({
      from: 'app@example.com',
      to: `b${n}@example.org`,
      subject: `resend-batch-${n}`,
      text: 'Hi',
    });
    const invalid = { from: 'app@example.com', to: 'nope', subject: 'resend-batch-bad', text: 'Hi' };
    const strict = await resend.batch.send([ok(1), invalid, ok(2)]);
    expect(strict.data).toBeNull();
    expect(strict.error).toMatchObject({ name: 'validation_error', statusCode: 422 });
    expect(strict.error?.message).toContain('`1.to.0`');

    const permissive = await resend.batch.send([ok(3), invalid, ok(4)], { batchValidation: 'permissive' });
    expect(permissive.error).toBeNull();
    expect(permissive.data?.data).toHaveLength(2);
    expect(permissive.data).toMatchObject({ errors: [{ index: 1 }] });
    for (const { id } of permissive.data?.data ?? []) await statusOf(stack, id, 'sent');
    const subjects = (await inbox(stack)).map((e) => e.subject).filter((s) => s.startsWith('resend-batch-'));
    expect(subjects.sort()).toEqual(['resend-batch-3', 'resend-batch-4']);
  });

  it('keeps mailroute’s guarantees: a suppressed address is never sent to, templates render strictly', async () => {
    await api(stack, 'PUT', '/v1/suppressions/blocked@example.org', { scope: '*' });
    const sent = await resend.emails.send({
      from: 'app@example.com',
      to: 'blocked@example.org',
      subject: 'resend-suppressed',
      text: 'x',
    });
    await statusOf(stack, sent.data?.id ?? '', 'suppressed');
    expect((await resend.emails.get(sent.data?.id ?? '')).data?.last_event).toBe('suppressed');

    const templated = await resend.emails.send({
      from: 'shop@example.com',
      to: 'jane@example.org',
      template: { id: 'password-reset', variables: { name: 'Jane', resetUrl: 'https://example.com/r/1' } },
    });
    expect(templated.error).toBeNull();
    await statusOf(stack, templated.data?.id ?? '', 'sent');
    const missing = await resend.emails.send({
      from: 'shop@example.com',
      to: 'jane@example.org',
      template: { id: 'password-reset', variables: { name: 'Jane' } },
    });
    expect(missing.error).toMatchObject({ name: 'validation_error', statusCode: 422 });
    expect(missing.error?.message).toContain('resetUrl');
  });

  it('refuses to reschedule or cancel an email that is not scheduled, in Resend’s shape', async () => {
    const { data } = await resend.emails.send({
      from: 'app@example.com',
      to: 'c@example.org',
      subject: 'x',
      text: 'x',
    });
    const update = await resend.emails.update({ id: data?.id ?? '', scheduledAt: '2030-01-01T00:00:00Z' });
    expect(update.error).toMatchObject({ statusCode: 409, name: 'validation_error' });
    expect(update.error?.message).toContain('only a scheduled email');
    const cancel = await resend.emails.cancel(data?.id ?? '');
    expect(cancel.error).toMatchObject({ statusCode: 409 });
  });

  it('schedules with scheduled_at, reschedules and cancels through the SDK', async () => {
    const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    const sent = await resend.emails.send({
      from: 'app@example.com',
      to: 'later@example.org',
      subject: 'resend-scheduled-later',
      text: 'Later',
      scheduledAt: at(60),
    });
    expect(sent.error).toBeNull();
    const id = sent.data?.id ?? '';
    const scheduled = await resend.emails.get(id);
    expect(scheduled.data).toMatchObject({ id, last_event: 'scheduled' });
    expect(Date.parse(scheduled.data?.scheduled_at ?? '')).toBeGreaterThan(Date.now());
    const moved = await resend.emails.update({ id, scheduledAt: at(120) });
    expect(moved.error).toBeNull();
    expect(moved.data).toMatchObject({ object: 'email', id });
    const canceled = await resend.emails.cancel(id);
    expect(canceled.error).toBeNull();
    expect((await resend.emails.get(id)).data).toMatchObject({ last_event: 'canceled' });
    // Canceled is final: a second cancel is a 409.
    expect((await resend.emails.cancel(id)).error).toMatchObject({ statusCode: 409 });
  });
});
