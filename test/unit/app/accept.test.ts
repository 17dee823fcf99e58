import { describe, expect, it } from 'vitest';
import { createAccept } from '../../../functions/app/accept';
import type { Caller } from '../../../functions/app/auth';
import { logger, newMetrics } from '../../../functions/app/observability';
import { SendEmailBody } from '../../../functions/core/email';
import { MemoryContentStore } from '../../support/content-store';
import { MemoryMessageStore, MemoryQueue } from '../../support/fakes';
import { MemoryTemplateStore } from '../../support/template-fakes';

const caller: Caller = { keyName: 'app', scopes: ['send'], senderDomains: ['*'], ratePerSecond: 100 };
const email = (to: string) => SendEmailBody.parse({ from: 'news@example.com', to, subject: 'Hi', text: 'Hello' });

function world() {
  const messages = new MemoryMessageStore();
  const queue = new MemoryQueue();
  const accept = createAccept({
    messages,
    queues: { critical: queue, transactional: queue, bulk: queue },
    content: new MemoryContentStore(),
    maxMessageBytes: 40_000_000,
    retentionDays: 30,
    templates: { store: new MemoryTemplateStore() },
    scheduling: undefined,
    now: () => new Date('2026-11-29T12:00:00Z'),
    logger,
    metrics: newMetrics(),
  });
  return { messages, queue, accept };
}

describe('accept with derived ids', () => {
  it('records and enqueues each email under the id it is given', async () => {
    const { messages, queue, accept } = world();
    const out = await accept(caller, [email('a@example.org'), email('b@example.org')], { ids: ['d-1', 'd-2'] });
    expect(out).toEqual([{ id: 'd-1' }, { id: 'd-2' }]);
    expect(queue.sent.map((e) => e.id)).toEqual(['d-1', 'd-2']);
    expect((await messages.get('d-2'))?.to).toEqual(['b@example.org']);
  });

  it('accepting the same ids again creates nothing and never overwrites a record that moved on', async () => {
    const { messages, queue, accept } = world();
    await accept(caller, [email('a@example.org')], { ids: ['d-1'] });
    await messages.claim('d-1', 'token', 1_000);
    const again = await accept(caller, [email('changed@example.org')], { ids: ['d-1'] });
    expect(again).toEqual([{ id: 'd-1', existed: true }]);
    expect(queue.sent).toHaveLength(1);
    const record = await messages.get('d-1');
    expect(record?.status).toBe('sending');
    expect(record?.to).toEqual(['a@example.org']);
  });

  it('puts a record that still waits in queued on its queue again (a crash between record and enqueue)', async () => {
    const { messages, queue, accept } = world();
    queue.failAll = true;
    // A derived-id record whose enqueue failed is removed (nothing half-done)…
    await expect(accept(caller, [email('a@example.org')], { ids: ['d-1'] })).rejects.toThrow(/could not be queued/);
    expect(await messages.get('d-1')).toBeUndefined();
    // …and one left queued by a crash is enqueued again by the next call with the same id.
    queue.failAll = false;
    await accept(caller, [email('a@example.org')], { ids: ['d-2'] });
    queue.sent.length = 0;
    const out = await accept(caller, [email('a@example.org'), email('b@example.org')], { ids: ['d-2', 'd-3'] });
    expect(out).toEqual([{ id: 'd-2', existed: true }, { id: 'd-3' }]);
    expect(queue.sent.map((e) => e.id).sort()).toEqual(['d-2', 'd-3']);
  });

  it('an enqueue failure removes only the records this call wrote', async () => {
    const { messages, queue, accept } = world();
    await accept(caller, [email('a@example.org')], { ids: ['d-1'] });
    queue.failAll = true;
    await expect(
      accept(caller, [email('a@example.org'), email('b@example.org')], { ids: ['d-1', 'd-2'] }),
    ).rejects.toThrow(/could not be queued/);
    expect((await messages.get('d-1'))?.status).toBe('queued');
    expect(await messages.get('d-2')).toBeUndefined();
  });
});
