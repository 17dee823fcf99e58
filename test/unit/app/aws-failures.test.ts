import { BasePersistenceLayer, type IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { isTransient } from '../../../functions/core/errors';
import { DispatchWorld, dispatcher, run } from '../../support/dispatch';
import { httpEvent, lambdaContext } from '../../support/events';
import { MemoryKeys, MemoryQueue, ScriptedProvider } from '../../support/fakes';
import { ingestTestDeps, unreachableIdempotency } from '../../support/ingest';

const timeout = () => Object.assign(new Error('Socket timed out'), { name: 'TimeoutError', $metadata: {} });

describe('dispatch when DynamoDB answers with an error', () => {
  it('goes on with a claim that was written although its answer was lost (no stale `sending`)', async () => {
    const world = new DispatchWorld();
    const claim = world.messages.claim.bind(world.messages);
    world.messages.claim = async (...args) => {
      await claim(...args);
      throw timeout();
    };
    const provider = new ScriptedProvider();
    const res = await run(dispatcher(world, provider).handler, world.queued('a'));
    expect(res.batchItemFailures).toEqual([]);
    expect(provider.calls).toHaveLength(1);
    expect(world.messages.items.get('a')?.status).toBe('sent');
  });

  it('leaves a claim that was not written to a later receive, without sending', async () => {
    const world = new DispatchWorld();
    world.messages.claim = async () => Promise.reject(timeout());
    const provider = new ScriptedProvider();
    const res = await run(dispatcher(world, provider).handler, world.queued('a'));
    expect(res.batchItemFailures).toHaveLength(1);
    expect(provider.calls).toHaveLength(0);
    expect(world.messages.items.get('a')?.status).toBe('queued');
  });

  it('retries the write of a send’s result, so a sent message is recorded `sent`', async () => {
    const world = new DispatchWorld();
    const finish = world.messages.finish.bind(world.messages);
    let calls = 0;
    world.messages.finish = async (...args) => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      return finish(...args);
    };
    const res = await run(dispatcher(world, new ScriptedProvider()).handler, world.queued('a'));
    expect(res.batchItemFailures).toEqual([]);
    expect(world.messages.items.get('a')?.status).toBe('sent');
  });
});

describe('isTransient', () => {
  it.each([
    [{ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } }, true],
    [{ name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } }, true],
    [{ name: 'TimeoutError' }, true],
    [{ code: 'ECONNRESET' }, true],
    [{ name: 'IdempotencyPersistenceLayerError', cause: { name: 'ThrottlingException' } }, true],
    [{ name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } }, false],
    [new TypeError('x is undefined'), false],
  ])('%j → %s', (e, transient) => {
    expect(isTransient(e)).toBe(transient);
  });
});

const KEY = 'mr_test_key_123456';
async function ingest(options: { failCreate?: boolean; idempotency?: BasePersistenceLayer } = {}) {
  const world = new DispatchWorld();
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), {
    name: 'app',
    createdAt: '2026-01-01T00:00:00Z',
    scopes: ['send', 'read'],
    senderDomains: ['example.com'],
    ratePerSecond: 100,
  });
  if (options.failCreate) {
    world.messages.createMany = async () => Promise.reject(timeout());
  }
  const queue = new MemoryQueue();
  let n = 0;
  const handler = createIngestHandler(
    ingestTestDeps({
      messages: world.messages,
      // Every priority on one queue: the dispatcher here reads them all from it.
      queues: { critical: queue, transactional: queue, bulk: queue },
      auth: new Authenticator(keys),
      idempotency: options.idempotency ?? unreachableIdempotency(),
      newId: () => `id-${++n}`,
      now: () => new Date('2026-11-22T10:00:00Z'),
    }),
  );
  const send = async (headers: Record<string, string> = {}) => {
    const res = (await handler(
      httpEvent('POST /v1/emails', {
        body: JSON.stringify({ from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'x' }),
        headers: { authorization: `Bearer ${KEY}`, ...headers },
      }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(res.body ?? '{}') };
  };
  return { world, queue, send };
}

/** An idempotency store that takes the in-progress record but cannot save the result. */
class CannotSaveResult extends BasePersistenceLayer {
  protected async _getRecord(): Promise<IdempotencyRecord> {
    throw new Error('not used');
  }
  protected async _putRecord(): Promise<void> {}
  protected async _updateRecord(): Promise<void> {
    throw Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
  }
  protected async _deleteRecord(): Promise<void> {}
}

describe('the API when a dependency fails', () => {
  it('answers 503 with Retry-After, and leaves no record behind', async () => {
    const t = await ingest({ failCreate: true });
    const res = await t.send();
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.error.code).toBe('unavailable');
    expect(t.world.messages.items.size).toBe(0);
    expect(t.queue.sent).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the queue refuses, and removes the records', async () => {
    const t = await ingest();
    t.queue.failAll = true;
    const res = await t.send();
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(t.world.messages.items.size).toBe(0);
  });

  it('answers 202 for emails it accepted although their idempotency record could not be saved', async () => {
    const t = await ingest({ idempotency: new CannotSaveResult() });
    const res = await t.send({ 'idempotency-key': 'k-1' });
    expect(res).toMatchObject({ status: 202, body: { id: 'id-1' } });
    expect(t.world.messages.items.get('id-1')?.status).toBe('queued');
    expect(t.queue.sent.map((e) => e.id)).toEqual(['id-1']);
  });
});
