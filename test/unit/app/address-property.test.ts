import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as fc from 'fast-check';
import { toUnicode } from 'tr46';
import { afterEach, describe, expect, it } from 'vitest';
import { Authenticator, hashKey } from '../../../functions/app/auth';
import { createIngestHandler } from '../../../functions/app/ingest';
import { normaliseAddress } from '../../../functions/core/address';
import type { SuppressionKey } from '../../../functions/ports';
import { SesProvider } from '../../../functions/providers/ses';
import { DispatchWorld, dispatcher, NOW } from '../../support/dispatch';
import { httpEvent, lambdaContext, sqsEvent, sqsRecord } from '../../support/events';
import { MemoryKeys, MemorySuppression } from '../../support/fakes';
import { ingestTestDeps } from '../../support/ingest';

const ses = mockClient(SESv2Client);
afterEach(() => ses.reset());

const KEY = 'mr_test_key_123456';

/** Records every key the dispatcher looks up. */
class RecordingSuppression extends MemorySuppression {
  readonly asked: SuppressionKey[] = [];
  override async suppressedAmong(keys: readonly SuppressionKey[]) {
    this.asked.push(...keys);
    return super.suppressedAmong(keys);
  }
}

async function world() {
  const w = new DispatchWorld();
  const suppression = new RecordingSuppression();
  const keys = new MemoryKeys();
  await keys.put(hashKey(KEY), {
    name: 'app',
    createdAt: '2026-01-01T00:00:00Z',
    scopes: ['send', 'read', 'admin'],
    senderDomains: ['example.com'],
    ratePerSecond: 1000,
  });
  let n = 0;
  const ingest = createIngestHandler(
    ingestTestDeps({
      messages: w.messages,
      suppression,
      // Every priority on one queue: the dispatcher here reads them all from it.
      queues: { critical: w.queue, transactional: w.queue, bulk: w.queue },
      auth: new Authenticator(keys),
      newId: () => `id-${++n}`,
      now: () => new Date(NOW),
    }),
  );
  const call = async (routeKey: string, opts: Parameters<typeof httpEvent>[1] = {}) => {
    const res = (await ingest(
      httpEvent(routeKey, { ...opts, headers: { authorization: `Bearer ${KEY}`, ...opts.headers } }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    return { status: res.statusCode ?? 0, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const { handler } = dispatcher(
    Object.assign(w, { suppression }) as DispatchWorld,
    new SesProvider(new SESv2Client({ region: 'us-east-1' })),
  );
  const dispatchAll = async () => {
    const records = w.queue.sent.splice(0).map((e, i) => sqsRecord(e.body, { messageId: `m-${i}` }));
    return handler(sqsEvent(...records), lambdaContext());
  };
  return { w, suppression, call, dispatchAll };
}

/** A domain with its punycode labels decoded: what it stands for, whatever form it was written in. */
const decoded = (domain: string) =>
  domain
    .toLowerCase()
    .split('.')
    .map((l) => (l.startsWith('xn--') ? toUnicode(l).domain : l))
    .join('.');

const ATEXT = [..."abcXYZ019!#$%&'*+/=?^_`{|}~-"];
const CLEAN = [...'abcdefXYZ0189', 'ü', 'ß', 'é', 'Ö', 'π', '例', 'テ'];
const HOSTILE_CHARS = ['-', 'ς', 'Σ', '·', 'ｅ', '©', '%', '_', '\u200d', 'İ', '\u0301', ' ', '\n', '[', '..'];
const EDGE = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('', ' ', '  ') },
  { weight: 1, arbitrary: fc.constantFrom('\r', '\n', '\r\n', '\t', '\u0000', '\u00a0', '\u2028') },
);

const chars = (pool: string[]) =>
  fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 10 }).map((c) => c.join(''));
const local = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(chars(ATEXT), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => `"${s.replace(/["\\]/g, '')}"`) },
);
const label = fc.oneof(
  { weight: 6, arbitrary: chars(CLEAN) },
  { weight: 2, arbitrary: chars([...CLEAN, ...HOSTILE_CHARS]) },
  { weight: 1, arbitrary: fc.constantFrom('xn--bcher-kva', 'XN--MNCHEN-3YA', 'xn--zz', 'a-b', '192', '0x7f', '1') },
);
const tld = fc.constantFrom('com', 'org', 'EXAMPLE', 'de', 'テスト', 'δοκιμή', 'com', 'org', '1', '0x7f', 'com©');
const address = fc
  .record({
    local,
    labels: fc.array(label, { minLength: 1, maxLength: 3 }),
    tld,
    before: EDGE,
    after: EDGE,
  })
  .map(({ local: l, labels, tld: t, before, after }) => ({
    written: `${l}@${[...labels, t].join('.')}`,
    before,
    after,
  }));

describe('for every address the API accepts, mailroute sends to that address', () => {
  it('differs only in the domain’s case and punycode, and record, status, suppression keys and provider request agree', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(address, async ({ written, before, after }) => {
        const input = `${before}${written}${after}`;
        const { w, suppression, call, dispatchAll } = await world();
        ses.reset();
        ses.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
        const res = await call('POST /v1/emails', {
          body: JSON.stringify({ from: 'app@example.com', to: input, subject: 'Hi', text: 'x' }),
        });
        if (res.status !== 202) {
          // A refusal names the field and says why; it creates nothing.
          expect(res.status).toBe(422);
          expect(res.body.error.details[0].path).toBe('to.0');
          expect(res.body.error.details[0].message).toMatch(/^".*": ./s);
          expect(w.messages.items.size).toBe(0);
          expect(w.queue.sent).toHaveLength(0);
          return;
        }
        accepted += 1;
        // Only spaces around the value were trimmed; nothing else.
        expect(input.replace(/^ +| +$/g, '')).toBe(written);
        const at = written.lastIndexOf('@');
        const id: string = res.body.id;
        const record = w.messages.items.get(id);
        const sentTo = record?.to[0] ?? '';
        const sentAt = sentTo.lastIndexOf('@');
        expect(sentTo.slice(0, sentAt)).toBe(written.slice(0, at));
        const sentDomain = sentTo.slice(sentAt + 1);
        expect(sentDomain).toMatch(/^[a-z0-9.-]+$/);
        expect(decoded(sentDomain)).toBe(decoded(written.slice(at + 1)));

        expect((await call('GET /v1/emails/{id}', { path: { id } })).body.to).toEqual([sentTo]);
        await dispatchAll();
        const request = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
        expect(request?.Destination?.ToAddresses).toEqual([sentTo]);
        expect(suppression.asked.map((k) => k.address)).toContain(sentTo.toLowerCase());
        expect(w.messages.items.get(id)?.status).toBe('sent');

        // The suppression the API stores for the address as written stops the same address.
        const key = encodeURIComponent(written);
        expect((await call('PUT /v1/suppressions/{email}', { path: { email: key }, body: '{}' })).status).toBe(200);
        expect(normaliseAddress(written)).toBe(sentTo.toLowerCase());
        const again = await call('POST /v1/emails', {
          body: JSON.stringify({ from: 'app@example.com', to: input, subject: 'Hi', text: 'x' }),
        });
        await dispatchAll();
        expect(w.messages.items.get(again.body.id)?.status).toBe('suppressed');
        expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
      }),
      { numRuns: 300, seed: 18 },
    );
    // The generator reaches the accepting side, not only refusals.
    expect(accepted).toBeGreaterThan(60);
  }, 60_000);
});

describe('the API refuses the addresses it used to rewrite, naming the field and saying why', () => {
  it.each([
    ['user@192.168.0.1', 'the domain must be a host name, not an IP address or a number'],
    ['a@1.2.3', 'the domain must be a host name, not an IP address or a number'],
    ['a@0x7f.1', 'the domain must be a host name, not an IP address or a number'],
    ['a@ex%61mple.com', 'the domain is not a valid host name'],
    ['user@domain.com©', 'IDNA2008 does not allow'],
    ['""@example.org', 'the part before @ must not be empty'],
    ['\r\nuser@example.org', 'must not contain control characters such as CR or LF'],
    ['user@example.org\n', 'must not contain control characters such as CR or LF'],
  ])('%j: 422 in the one envelope, nothing created', async (to, why) => {
    const { w, call } = await world();
    const res = await call('POST /v1/emails', {
      body: JSON.stringify({ from: 'app@example.com', to: ['ok@example.org', to], subject: 'Hi', text: 'x' }),
    });
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'validation_failed' } } });
    expect(res.body.error.details).toHaveLength(1);
    expect(res.body.error.details[0].path).toBe('to.1');
    expect(res.body.error.details[0].message).toContain(why);
    expect(w.messages.items.size).toBe(0);
    expect(w.queue.sent).toHaveLength(0);
    const put = await call('PUT /v1/suppressions/{email}', { path: { email: encodeURIComponent(to) }, body: '{}' });
    expect(put.status).toBe(422);
    expect(put.body.error.details[0]).toMatchObject({ path: 'email' });
    expect(put.body.error.details[0].message).toContain(why);
  });

  it('refuses a sender address the same way, naming `from`', async () => {
    const { call } = await world();
    const res = await call('POST /v1/emails', {
      body: JSON.stringify({ from: 'app@ex%61mple.com', to: 'user@example.org', subject: 'Hi', text: 'x' }),
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe('from');
  });
});
