import { describe, expect, it } from 'vitest';
import type { ApiRequest } from '../../../functions/app/http';
import { createSesEventsHandler } from '../../../functions/app/ses-events';
import { renderTemplates } from '../../../functions/app/template-send';
import { templateRoutes } from '../../../functions/app/templates';
import type { SendEmail } from '../../../functions/core/email';
import { DomainError } from '../../../functions/core/errors';
import { judgeCanary, NO_COUNTS, pickVersion } from '../../../functions/core/template-canary';
import { lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryMessageStore, MemorySuppression } from '../../support/fakes';
import { sesFixture } from '../../support/fixtures';
import { record } from '../../support/records';
import { MemoryTemplateStore } from '../../support/template-fakes';

const now = () => new Date('2026-11-22T12:00:00Z');
const silent = { warn: () => undefined } as unknown as Parameters<typeof renderTemplates>[2];

function request(params: Record<string, string>, body?: unknown): ApiRequest {
  return {
    event: { queryStringParameters: {} } as ApiRequest['event'],
    context: lambdaContext(),
    body,
    caller: undefined,
    header: () => undefined,
    param: (name) => params[name],
  };
}

async function setup() {
  const store = new MemoryTemplateStore();
  const routes = templateRoutes({ store }, now);
  const created = await routes['POST /v1/templates'].handle(
    request(
      {},
      {
        slug: 'hello',
        name: 'Hello',
        subject: 'Hi {{ name }}',
        text: 'Hello {{ name }}',
        variables: [{ name: 'name', type: 'string' }],
      },
    ),
  );
  expect(created.status).toBe(201);
  await routes['POST /v1/templates/{slug}/publish'].handle(request({ slug: 'hello' }));
  return { store, routes };
}

const rejects = async (p: Promise<unknown>, code: string) => {
  const error = await p.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
  return error as DomainError;
};

describe('template API', () => {
  it('refuses a second template with the same slug (409), an unknown slug (404), an edit that reads an undeclared variable (422)', async () => {
    const { routes } = await setup();
    await rejects(
      routes['POST /v1/templates'].handle(request({}, { slug: 'hello', name: 'x', subject: 's', text: 't' })),
      'conflict',
    );
    await rejects(routes['GET /v1/templates/{slug}'].handle(request({ slug: 'nope' })), 'not_found');
    const e = await rejects(
      routes['PUT /v1/templates/{slug}'].handle(request({ slug: 'hello' }, { text: 'Hi {{ nmae }}' })),
      'validation_failed',
    );
    expect(e.details).toEqual([{ path: 'text', message: expect.stringContaining('"nmae"') }]);
  });

  it('publishes immutable versions n+1, refusing a publish that lost the race (409)', async () => {
    const { store, routes } = await setup();
    const stale = await store.head('hello');
    if (!stale) throw new Error('no head');
    await routes['PUT /v1/templates/{slug}'].handle(request({ slug: 'hello' }, { text: 'Hey {{ name }}' }));
    const second = await routes['POST /v1/templates/{slug}/publish'].handle(request({ slug: 'hello' }));
    expect(second.body).toMatchObject({ version: 2, active: false });
    expect((await store.version('hello', 1))?.content.text).toBe('Hello {{ name }}');
    // A publish that read the head before the other one.
    expect(await store.publish('hello', stale.latestVersion, stale.draft, now().toISOString())).toBe(false);
  });

  it('refuses a canary without another active version, and promote or rollback without a canary', async () => {
    const { routes } = await setup();
    await rejects(
      routes['POST /v1/templates/{slug}/activate'].handle(
        request({ slug: 'hello' }, { version: 1, canary: { percent: 10 } }),
      ),
      'validation_failed',
    );
    await rejects(routes['POST /v1/templates/{slug}/canary/promote'].handle(request({ slug: 'hello' })), 'conflict');
    await rejects(
      routes['POST /v1/templates/{slug}/activate'].handle(request({ slug: 'hello' }, { version: 9 })),
      'validation_failed',
    );
  });
});

describe('sending with a template', () => {
  const email = (template: SendEmail['template']): SendEmail =>
    ({
      from: { address: 'a@example.com' },
      to: [{ address: 'b@example.org' }],
      category: 'transactional',
      template,
    }) as SendEmail;

  it('leaves emails without a template alone and reads nothing', async () => {
    const store = new MemoryTemplateStore();
    const plain = { ...email(undefined), subject: 'x', text: 'y' } as SendEmail;
    expect(await renderTemplates({ store }, [plain], silent)).toEqual({ emails: [plain], refs: [undefined] });
    expect(store.calls).toEqual([]);
  });

  it('reads each version once, then renders from the cache', async () => {
    const { store } = await setup();
    const send = email({ slug: 'hello', variables: { name: 'Jo' } });
    const first = await renderTemplates({ store }, [send, send], silent);
    expect(first.emails[0]).toMatchObject({ subject: 'Hi Jo', text: 'Hello Jo' });
    expect(first.emails[0]).not.toHaveProperty('template');
    expect(first.refs).toEqual([
      { slug: 'hello', version: 1 },
      { slug: 'hello', version: 1 },
    ]);
    store.calls.length = 0;
    await renderTemplates({ store }, [send], silent);
    expect(store.calls).toEqual(['heads']);
  });

  it('refuses the whole request naming each problem, and counts the render failures of the version', async () => {
    const { store } = await setup();
    const e = await rejects(
      renderTemplates(
        { store },
        [email({ slug: 'hello', variables: { name: 'Jo' } }), email({ slug: 'hello', variables: { name: 1 } })],
        silent,
      ),
      'validation_failed',
    );
    expect(e.details).toEqual([
      { path: 'emails.1.template.variables.name', message: '"name" must be a string, not number' },
    ]);
    expect(store.counts.get('hello@1')).toMatchObject({ renderFailures: 1 });
  });
});

describe('canary', () => {
  it('gives the canary exactly the draws below its percent', () => {
    const head = { activeVersion: 1, canary: { version: 2, percent: 10 } };
    expect([0, 0.05, 0.099, 0.1, 0.5, 0.999].map((r) => pickVersion(head, r))).toEqual([2, 2, 2, 1, 1, 1]);
    expect(pickVersion({ activeVersion: 3 }, 0)).toBe(3);
  });

  it('waits for minSends, then rolls back past the margin only', () => {
    const canary = { minSends: 100, margin: 0.02 };
    const active = { ...NO_COUNTS, sends: 1000, bounces: 10 };
    expect(judgeCanary(canary, active, { ...NO_COUNTS, sends: 99, bounces: 99 })).toEqual({ kind: 'wait', sends: 99 });
    expect(judgeCanary(canary, active, { ...NO_COUNTS, sends: 100, bounces: 3 })).toEqual({ kind: 'healthy' });
    expect(judgeCanary(canary, active, { ...NO_COUNTS, sends: 100, bounces: 4 })).toMatchObject({ kind: 'rollback' });
    expect(judgeCanary(canary, active, { ...NO_COUNTS, sends: 95, renderFailures: 5 })).toMatchObject({
      kind: 'rollback',
      reason: expect.stringContaining('rejection rate'),
    });
  });
});

describe('SES feedback per template version', () => {
  it('counts a bounce for the version on the message record, once', async () => {
    const messages = new MemoryMessageStore();
    const templates = new MemoryTemplateStore();
    const r = record('msg-1');
    r.status = 'sent';
    r.template = { slug: 'hello', version: 3 };
    messages.items.set('msg-1', r);
    const handler = createSesEventsHandler({
      messages,
      suppression: new MemorySuppression(),
      softBounce: { limit: 3, windowHours: 72 },
      templates,
      now: () => now().getTime(),
    });
    const bounce = sesFixture('event-bounce-permanent.json');
    for (let i = 0; i < 2; i++) await handler(sqsEvent(sqsRecord(bounce, { messageId: `sqs-${i}` })), lambdaContext());
    expect(templates.counts.get('hello@3')).toMatchObject({ bounces: 1 });
  });
});
