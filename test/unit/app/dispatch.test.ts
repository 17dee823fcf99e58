import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendOutcome } from '../../../functions/core/dispatch';
import type { QueuedEmail } from '../../../functions/core/queued-email';
import { verify } from '../../../functions/core/signing';
import {
  type DispatcherOptions,
  DispatchWorld,
  dispatcher as dispatchHandler,
  KEYRING,
  NOW,
} from '../../support/dispatch';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import type { MemoryMessageStore, MemorySuppression, MemoryVisibility } from '../../support/fakes';
import { ScriptedProvider } from '../../support/fakes';

let world: DispatchWorld;
let messages: MemoryMessageStore;
let suppression: MemorySuppression;
let visibility: MemoryVisibility;

beforeEach(() => {
  world = new DispatchWorld();
  ({ messages, suppression, visibility } = world);
});

const queued = (id: string, input: Record<string, unknown> = {}): QueuedEmail => world.queued(id, input);

function dispatcher(provider: ScriptedProvider, now = () => NOW, metrics?: Metrics, options: DispatcherOptions = {}) {
  return dispatchHandler(world, provider, { now, ...(metrics ? { metrics } : {}), ...options }).handler;
}

const outcome = (o: SendOutcome) => new ScriptedProvider(() => o);

describe('dispatch', () => {
  it('sends, records sent with the provider id, and reports no failure', async () => {
    const provider = new ScriptedProvider();
    const res = await dispatcher(provider)(sqsEvent(sqsRecord(queued('a'))), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls).toHaveLength(1);
    expect(messages.items.get('a')).toMatchObject({ status: 'sent', provider: 'ses', providerMessageId: 'prov-1' });
    expect(messages.items.get('a')?.events.map((e) => e.type)).toEqual(['queued', 'sent']);
  });

  it('looks up suppression once for the whole batch', async () => {
    const provider = new ScriptedProvider();
    await dispatcher(provider)(
      sqsEvent(sqsRecord(queued('a')), sqsRecord(queued('b')), sqsRecord(queued('c'))),
      lambdaContext(),
    );
    expect(suppression.lookups).toBe(1);
    expect(provider.calls).toHaveLength(3);
  });

  it('never sends to a suppressed address: all suppressed ends `suppressed`', async () => {
    suppression.add('user@example.org');
    const provider = new ScriptedProvider();
    const res = await dispatcher(provider)(
      sqsEvent(sqsRecord(queued('a', { to: 'User@Example.org' }))),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls).toHaveLength(0);
    expect(messages.items.get('a')).toMatchObject({ status: 'suppressed' });
  });

  it('drops only the suppressed recipients of a multi-recipient email', async () => {
    suppression.add('gone@example.org');
    const provider = new ScriptedProvider();
    await dispatcher(provider)(
      sqsEvent(sqsRecord(queued('a', { to: ['user@example.org'], bcc: ['gone@example.org'] }))),
      lambdaContext(),
    );
    expect(provider.calls[0]?.bcc).toEqual([]);
    expect(provider.calls[0]?.to).toEqual(['user@example.org']);
    expect(messages.items.get('a')?.events.at(-1)?.detail).toMatchObject({
      suppressedRecipients: ['gone@example.org'],
    });
  });

  it('sends once when SQS delivers the same message twice', async () => {
    const provider = new ScriptedProvider();
    const q = queued('a');
    const handler = dispatcher(provider);
    await handler(sqsEvent(sqsRecord(q, { messageId: 'x1' })), lambdaContext());
    const res = await handler(sqsEvent(sqsRecord(q, { messageId: 'x2', receiveCount: 2 })), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls).toHaveLength(1);
  });

  it('sends once when two dispatchers get the same message at the same time', async () => {
    const provider = new ScriptedProvider();
    const q = queued('a');
    const handler = dispatcher(provider);
    const [r1, r2] = await Promise.all([
      handler(sqsEvent(sqsRecord(q, { messageId: 'x1' })), lambdaContext()),
      handler(sqsEvent(sqsRecord(q, { messageId: 'x2' })), lambdaContext()),
    ]);
    expect(provider.calls).toHaveLength(1);
    // The loser sees a live claim and retries later; it does not send.
    expect([...r1.batchItemFailures, ...r2.batchItemFailures]).toHaveLength(1);
  });

  it('ends `rejected` with the reason when the provider refuses the message, without a retry', async () => {
    const res = await dispatcher(outcome({ kind: 'rejected', reason: 'MessageRejected: bad content' }))(
      sqsEvent(sqsRecord(queued('a'))),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(messages.items.get('a')).toMatchObject({ status: 'rejected', reason: 'MessageRejected: bad content' });
  });

  it('releases the claim and backs off when the provider throttles', async () => {
    const rec = sqsRecord(queued('a'), { messageId: 'm1' });
    const res = await dispatcher(outcome({ kind: 'throttled', reason: 'TooManyRequests' }))(
      sqsEvent(rec),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(messages.items.get('a')).toMatchObject({ status: 'queued' });
    expect(messages.items.get('a')?.events.at(-1)?.type).toBe('retry');
    expect(visibility.delays).toEqual([{ receiptHandle: rec.receiptHandle, seconds: 10 }]);
  });

  it('ends `failed` with the reason on the last receive, so nothing is left `sending`', async () => {
    const rec = sqsRecord(queued('a'), { messageId: 'm1', receiveCount: 5 });
    const res = await dispatcher(outcome({ kind: 'down', reason: '503' }))(sqsEvent(rec), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(messages.items.get('a')).toMatchObject({ status: 'failed', reason: 'retries exhausted (down: ses: 503)' });
  });

  it('does not send again after an ambiguous outcome, and says so on the message', async () => {
    const provider = outcome({ kind: 'ambiguous', reason: 'socket hang up' });
    const q = queued('a');
    const handler = dispatcher(provider);
    const res = await handler(sqsEvent(sqsRecord(q)), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(messages.items.get('a')).toMatchObject({ status: 'failed', reason: 'ambiguous: socket hang up' });
    await handler(sqsEvent(sqsRecord(q, { receiveCount: 2 })), lambdaContext());
    expect(provider.calls).toHaveLength(1);
  });

  it('treats a claim left by a stopped dispatcher as ambiguous and does not send', async () => {
    const q = queued('a');
    await messages.claim('a', 'dead-dispatcher', NOW);
    const provider = new ScriptedProvider();
    const later = () => NOW + 10 * 60_000;
    const res = await dispatcher(provider, later)(sqsEvent(sqsRecord(q, { receiveCount: 2 })), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls).toHaveLength(0);
    expect(messages.items.get('a')).toMatchObject({ status: 'failed' });
    expect(messages.items.get('a')?.reason).toMatch(/^ambiguous/);
  });

  it('drops a queued message that has no record (its API request was rolled back)', async () => {
    const q = queued('a');
    messages.items.delete('a');
    const provider = new ScriptedProvider();
    const res = await dispatcher(provider)(sqsEvent(sqsRecord(q)), lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls).toHaveLength(0);
  });

  it('reports a malformed queue message as failed (it ends in the DLQ) and still sends the rest', async () => {
    const provider = new ScriptedProvider();
    const res = await dispatcher(provider)(
      sqsEvent(sqsRecord('not json', { messageId: 'bad' }), sqsRecord(queued('a'), { messageId: 'good' })),
      lambdaContext(),
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(provider.calls).toHaveLength(1);
  });

  it('records the metric of each path by its shared name', async () => {
    const metrics = new Metrics({ namespace: 'Test' });
    const names = vi.spyOn(metrics, 'addMetric');
    suppression.add('gone@example.org');
    await dispatcher(
      new ScriptedProvider(),
      () => NOW,
      metrics,
    )(sqsEvent(sqsRecord(queued('a')), sqsRecord(queued('b', { to: 'gone@example.org' }))), lambdaContext());
    expect(names.mock.calls.map((c) => c[0]).sort()).toEqual(['AcceptToSendLatency', 'EmailsSent', 'EmailsSuppressed']);
  });

  it('adds a signed one-click unsubscribe link to non-transactional mail', async () => {
    const provider = new ScriptedProvider();
    await dispatcher(provider)(sqsEvent(sqsRecord(queued('a', { category: 'newsletter' }))), lambdaContext());
    const headers = provider.calls[0]?.headers ?? {};
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const token = /^<https:\/\/mail\.example\.com\/u\/([^>]+)>$/.exec(headers['List-Unsubscribe'] ?? '')?.[1] ?? '';
    expect(verify(token, KEYRING)).toEqual({ a: 'user@example.org', c: 'newsletter', m: 'a' });
  });

  it('adds no unsubscribe link to transactional mail', async () => {
    const provider = new ScriptedProvider();
    await dispatcher(provider)(sqsEvent(sqsRecord(queued('a'))), lambdaContext());
    expect(provider.calls[0]?.headers).not.toHaveProperty('List-Unsubscribe');
  });

  it('stops a category after its unsubscribe, but never transactional mail', async () => {
    suppression.add('user@example.org', 'newsletter');
    const provider = new ScriptedProvider();
    await dispatcher(provider)(
      sqsEvent(
        sqsRecord(queued('news', { category: 'newsletter' })),
        sqsRecord(queued('reset')),
        sqsRecord(queued('promo', { category: 'promotions' })),
      ),
      lambdaContext(),
    );
    expect(messages.items.get('news')?.status).toBe('suppressed');
    expect(messages.items.get('reset')?.status).toBe('sent');
    expect(messages.items.get('promo')?.status).toBe('sent');
  });

  it('tracks HTML mail: signed click links and an open pixel; the text part stays as it is', async () => {
    const provider = new ScriptedProvider();
    const html =
      '<html><body><p><a href="https://shop.example.com/x?a=1">Shop</a> <a href="mailto:x@example.com">mail</a></p></body></html>';
    await dispatcher(provider)(
      sqsEvent(sqsRecord(queued('a', { html, text: 'Shop at https://shop.example.com/x' }))),
      lambdaContext(),
    );
    const sent = provider.calls[0];
    const click = /href="https:\/\/mail\.example\.com\/c\/([^"]+)"/.exec(sent?.html ?? '')?.[1] ?? '';
    expect(verify(click, KEYRING)).toMatchObject({ k: 'c', m: 'a', i: 0, u: 'https://shop.example.com/x?a=1' });
    const pixel =
      /<img src="https:\/\/mail\.example\.com\/o\/([^"]+)"[^>]*\/><\/body>/.exec(sent?.html ?? '')?.[1] ?? '';
    expect(verify(pixel, KEYRING)).toMatchObject({ k: 'o', m: 'a' });
    expect(sent?.html).toContain('<a href="mailto:x@example.com">mail</a>');
    expect(sent?.text).toBe('Shop at https://shop.example.com/x');
  });

  it("follows the message's track settings over the defaults", async () => {
    const provider = new ScriptedProvider();
    const html = '<p><a href="https://shop.example.com/">Shop</a></p>';
    await dispatcher(provider)(
      sqsEvent(
        sqsRecord(queued('a', { html, track: { opens: false } })),
        sqsRecord(queued('b', { html, track: { opens: false, clicks: false } })),
      ),
      lambdaContext(),
    );
    const byId = Object.fromEntries(provider.calls.map((c) => [c.id, c.html]));
    expect(byId.a).toMatch(/\/c\//);
    expect(byId.a).not.toMatch(/\/o\//);
    expect(byId.b).toBe(html);
  });

  it('ends failed, not queued, when preparing the email keeps failing until the last receive', async () => {
    const broken = dispatcher(new ScriptedProvider(), () => NOW, undefined, {
      keys: { keyring: async () => Promise.reject(new Error('Secrets Manager unavailable')) },
    });
    const q = queued('a', { html: '<p>x</p>' });
    expect(
      (await broken(sqsEvent(sqsRecord(q, { messageId: 'm', receiveCount: 1 })), lambdaContext())).batchItemFailures,
    ).toHaveLength(1);
    expect(messages.items.get('a')?.status).toBe('queued');
    await broken(sqsEvent(sqsRecord(q, { messageId: 'm', receiveCount: 5 })), lambdaContext());
    expect(messages.items.get('a')).toMatchObject({
      status: 'failed',
      reason: 'retries exhausted: Secrets Manager unavailable',
    });
  });
});

describe('a settle that fails on the last receive', () => {
  it('is logged at error level and counted, never swallowed', async () => {
    const metrics = new Metrics({ namespace: 'Test' });
    const names = vi.spyOn(metrics, 'addMetric');
    const logger = new Logger({ serviceName: 'test' });
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const handler = dispatcher(new ScriptedProvider(), () => NOW, metrics, {
      keys: { keyring: async () => Promise.reject(new Error('Secrets Manager unavailable')) },
      logger,
    });
    messages.settleQueued = async () => Promise.reject(new Error('DynamoDB unavailable'));
    const q = queued('a', { html: '<p>x</p>' });
    const res = await handler(sqsEvent(sqsRecord(q, { messageId: 'm', receiveCount: 5 })), lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    expect(names.mock.calls.map((c) => c[0])).toContain('SettleFailures');
    expect(errors.mock.calls.map((c) => c[0])).toContain(
      'message record not settled on its last receive; its message goes to the dead-letter queue',
    );
  });
});
