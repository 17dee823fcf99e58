import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { countByStatus } from '../../bin/local-status';
import { api, countItems, drained, inbox, queueCounts, statusOf, useLocalStack } from '../support/local';

let stack: LocalStack;
const email = (subject: string, extra: Record<string, unknown> = {}) => ({
  from: 'app@example.com',
  to: 'user@example.org',
  subject,
  html: '<p>Hello</p>',
  ...extra,
});
const inboxWith = async (subject: string) => (await inbox(stack)).filter((e) => e.subject === subject);

useLocalStack((s) => {
  stack = s;
});

describe('the send path on the local stack', () => {
  it('answers /health once ready', async () => {
    expect((await fetch(`${stack.apiUrl}/health`)).status).toBe(200);
  });

  it('sends an accepted email to the SES inbox and shows it as sent', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('send-1', { headers: { 'X-Entity-Ref': 'r1' } }));
    expect(res.status).toBe(202);
    const view = await statusOf(stack, res.body.id, 'sent');
    const [received] = await inboxWith('send-1');
    expect(received).toMatchObject({ from: 'app@example.com', destination: { to: ['user@example.org'] } });
    expect(received?.headers).toContainEqual({ name: 'X-Entity-Ref', value: 'r1' });
    expect(view).toMatchObject({ provider: 'ses', providerMessageId: received?.messageId });
    expect(view.events.map((e: { type: string }) => e.type)).toEqual(['queued', 'sent']);
    // The local status line counts it (every message of this file so far is sent).
    expect(await countByStatus(stack.clients.dynamodb, stack.tables.messages)).toEqual({ sent: 1 });
  });

  it('sends every email of a batch', async () => {
    const res = await api(stack, 'POST', '/v1/emails/batch', {
      emails: Array.from({ length: 12 }, (_, i) => email(`batch-${i}`)),
    });
    expect(res.status).toBe(202);
    expect(res.body.data).toHaveLength(12);
    for (const { id } of res.body.data) await statusOf(stack, id, 'sent');
    const subjects = (await inbox(stack)).map((e) => e.subject).filter((s) => s.startsWith('batch-'));
    expect(subjects.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `batch-${i}`).sort());
  });

  it('replays an Idempotency-Key: same id, one email; a different body is a 409', async () => {
    const headers = { 'idempotency-key': 'order-42' };
    const first = await api(stack, 'POST', '/v1/emails', email('idem-1'), headers);
    const again = await api(stack, 'POST', '/v1/emails', email('idem-1'), headers);
    expect(first.status).toBe(202);
    expect(again).toEqual(first);
    await statusOf(stack, first.body.id, 'sent');
    const conflict = await api(stack, 'POST', '/v1/emails', email('idem-other'), headers);
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'idempotency_conflict' } } });
    // Whatever the three requests queued has been dispatched.
    await drained(stack);
    expect(await inboxWith('idem-1')).toHaveLength(1);
    expect(await inboxWith('idem-other')).toHaveLength(0);
  });

  it('sends once when SQS delivers the same message twice', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('dup-1'));
    await statusOf(stack, res.body.id, 'sent');
    // A second delivery of the very same queued message (as SQS at-least-once delivery can do).
    const body = JSON.stringify({
      v: 1,
      id: res.body.id,
      from: 'app@example.com',
      to: ['user@example.org'],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: 'dup-1',
      html: '<p>Hello</p>',
      headers: {},
      tags: {},
    });
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.send, MessageBody: body }));
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.send, MessageBody: body }));
    await drained(stack);
    expect(await inboxWith('dup-1')).toHaveLength(1);
  });

  it('the drain check waits for a delayed message and for one being dispatched', async () => {
    const res = await api(stack, 'POST', '/v1/emails', email('drain-1'));
    await statusOf(stack, res.body.id, 'sent');
    // The same message again, delayed: the dispatcher will see it only in 2 s.
    const body = JSON.stringify({
      v: 1,
      id: res.body.id,
      from: 'app@example.com',
      to: ['user@example.org'],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: 'drain-1',
      html: '<p>Hello</p>',
      headers: {},
      tags: {},
    });
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.queues.send, MessageBody: body, DelaySeconds: 2 }),
    );
    const before = await queueCounts(stack, stack.queues.send);
    expect(before.visible + before.inFlight + before.delayed).toBe(1);
    await drained(stack);
    // It was received and handled (acknowledged as a duplicate), not just skipped by the check.
    expect(await queueCounts(stack, stack.queues.send)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await inboxWith('drain-1')).toHaveLength(1);
  });

  it('never sends to a suppressed address', async () => {
    await stack.clients.dynamodb.send(
      new PutItemCommand({
        TableName: stack.tables.suppression,
        Item: { address: { S: 'blocked@example.org' }, scope: { S: '*' }, reason: { S: 'bounce' } },
      }),
    );
    const res = await api(stack, 'POST', '/v1/emails', email('supp-1', { to: 'Blocked@EXAMPLE.org' }));
    const view = await statusOf(stack, res.body.id, 'suppressed');
    expect(view.events.at(-1)).toMatchObject({ type: 'suppressed', detail: { recipients: ['Blocked@example.org'] } });
    await drained(stack);
    expect(await inboxWith('supp-1')).toHaveLength(0);
  });

  it('gives bad input the right 4xx and leaves nothing behind', async () => {
    const before = await countItems(stack, stack.tables.messages);
    const cases: [unknown, number, Record<string, string>?][] = [
      ['{"from":', 400],
      [email('bad'), 401, { authorization: 'Bearer wrong-key-123' }],
      [{ ...email('bad'), to: 'not-an-address' }, 422],
      [{ ...email('bad'), subject: 'x\r\nBcc: victim@example.org' }, 422],
      [{ ...email('bad'), headers: { From: 'ceo@example.com' } }, 422],
      [{ ...email('bad'), unknownField: true }, 422],
      [{ ...email('bad'), html: 'x'.repeat(1_100_000) }, 413],
    ];
    for (const [body, status, headers] of cases) {
      const res = await api(stack, 'POST', '/v1/emails', body, headers);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toEqual(expect.any(String));
    }
    const batch = await api(stack, 'POST', '/v1/emails/batch', {
      emails: [email('ok'), { ...email('bad'), from: 'nope' }],
    });
    expect(batch.status).toBe(422);
    expect(batch.body.error.details[0].path).toBe('emails.1.from');
    expect(await countItems(stack, stack.tables.messages)).toBe(before);
    await drained(stack);
    expect(await inboxWith('bad')).toHaveLength(0);
    expect(await inboxWith('ok')).toHaveLength(0);
  });

  it('answers 404 for an unknown email and an unknown route', async () => {
    expect((await api(stack, 'GET', '/v1/emails/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await api(stack, 'GET', '/v2/nothing')).status).toBe(404);
  });
});
