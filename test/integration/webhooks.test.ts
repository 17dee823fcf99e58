import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Resend } from 'resend';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { api, eventually, statusOf, useLocalStack } from '../support/local';
import { type Received, type Receiver, startReceiver } from '../support/webhook-receiver';

const ROOT = join(import.meta.dirname, '../..');
let stack: LocalStack;
// Retries after 1, 2, 4 and 8 s (then the delivery fails); failure streaks are left to the unit tests.
useLocalStack(
  (s) => {
    stack = s;
  },
  { webhooks: { retryScheduleSeconds: [1, 2, 4, 8], failureLimit: 1000, failingHours: 0 } },
);

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.stop();
});

const email = (to: string, subject: string) => ({ from: 'app@example.com', to, subject, text: 'Hello' });

/** Verifies a received request as a receiver would: with the Standard Webhooks library and with Resend's SDK. */
function verified(secret: string, r: Received): { type: string; created_at: string; data: Record<string, unknown> } {
  const headers = {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  };
  const viaStandard = new Webhook(secret).verify(r.body, headers);
  const viaResend = new Resend('re_test_key').webhooks.verify({
    payload: r.body,
    headers: {
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signature: headers['webhook-signature'],
    },
    webhookSecret: secret,
  });
  expect(viaResend).toEqual(viaStandard);
  return viaStandard as { type: string; created_at: string; data: Record<string, unknown> };
}

async function register(url: string, events: string[]) {
  const r = await api(stack, 'POST', '/v1/webhooks', { url, events, description: 'test receiver' });
  expect(r.status).toBe(201);
  expect(r.body.secret).toMatch(/^whsec_/);
  return r.body as { id: string; secret: string };
}

const forEmail = (id: string) => (r: Received) => JSON.parse(r.body).data?.email_id === id;

describe('webhooks on the local stack', () => {
  it('a send to the bounce simulator is told as email.queued, email.sent and email.bounced, each signed and in order', async () => {
    const endpoint = await register(receiver.url, ['email.*']);
    const sent = await api(stack, 'POST', '/v1/emails', email('bounce@simulator.amazonses.com', 'hooked'));
    await statusOf(stack, sent.body.id, 'bounced');
    const got = await eventually(async () => {
      const mine = receiver.received.filter(forEmail(sent.body.id));
      return mine.length >= 3 ? mine : undefined;
    }, 'three events of the email');
    const events = got.map((r) => verified(endpoint.secret, r));
    const ordered = [...events].sort(
      (a, b) => (a.data.sequence as number) - (b.data.sequence as number) || a.created_at.localeCompare(b.created_at),
    );
    expect(ordered.map((e) => e.type)).toEqual(['email.queued', 'email.sent', 'email.bounced']);
    for (const e of events) {
      expect(e.data).toMatchObject({
        email_id: sent.body.id,
        to: ['bounce@simulator.amazonses.com'],
        subject: 'hooked',
      });
    }
    expect(ordered[1]?.data.provider).toBe('ses');
    expect(ordered[2]?.data.bounce).toMatchObject({ type: 'Permanent', permanent: true });
    // Suppression events are not in this endpoint's filter.
    expect(receiver.received.some((r) => JSON.parse(r.body).type === 'suppression.added')).toBe(false);
    // Each delivery has its own stable id.
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(3);
    await api(stack, 'DELETE', `/v1/webhooks/${endpoint.id}`);
  });

  it('a receiver that fails and recovers gets every event once more, with the same webhook-id; the delivery says so', async () => {
    const flaky = await startReceiver();
    try {
      const endpoint = await register(flaky.url, ['webhook.test']);
      let calls = 0;
      flaky.answer = () => {
        calls += 1;
        return calls === 1
          ? { status: 503, headers: { 'retry-after': '1' } }
          : calls === 2
            ? { status: 500 }
            : { status: 204 };
      };
      const test = await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      expect(test.status).toBe(202);
      await eventually(async () => (flaky.received.length >= 3 ? true : undefined), 'the third attempt');
      const ids = new Set(flaky.received.map((r) => r.headers['webhook-id']));
      expect(ids).toEqual(new Set([test.body.deliveryId]));
      for (const r of flaky.received) expect(verified(endpoint.secret, r).type).toBe('webhook.test');
      // The exact same bytes on every attempt.
      expect(new Set(flaky.received.map((r) => r.body)).size).toBe(1);
      const listed = await eventually(async () => {
        const l = await api(stack, 'GET', `/v1/webhooks/${endpoint.id}/deliveries`);
        return l.body.data[0]?.status === 'delivered' ? l.body.data : undefined;
      }, 'the delivery to be delivered');
      expect(listed[0]).toMatchObject({
        id: test.body.deliveryId,
        attempts: 3,
        lastStatusCode: 204,
        type: 'webhook.test',
      });
    } finally {
      await flaky.stop();
    }
  });

  it('a delivery whose retries run out fails; replay delivers it again with the same id', async () => {
    const down = await startReceiver();
    try {
      const endpoint = await register(down.url, ['webhook.test']);
      down.answer = () => ({ status: 500 });
      const test = await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      const failed = await eventually(
        async () => {
          const l = await api(stack, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?status=failed`);
          return l.body.data[0];
        },
        'the delivery to fail',
        40_000,
      );
      expect(failed).toMatchObject({ id: test.body.deliveryId, status: 'failed', attempts: 5, lastStatusCode: 500 });
      expect(down.received).toHaveLength(5);

      down.answer = () => ({ status: 200 });
      const replay = await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/replay`, {
        since: new Date(Date.now() - 60_000).toISOString(),
      });
      expect(replay).toMatchObject({ status: 202, body: { replayed: 1, deliveryIds: [test.body.deliveryId] } });
      await eventually(async () => (down.received.length === 6 ? true : undefined), 'the replay');
      expect(down.received[5]?.headers['webhook-id']).toBe(test.body.deliveryId);
      expect(verified(endpoint.secret, down.received[5] as Received).type).toBe('webhook.test');

      const one = await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/deliveries/${test.body.deliveryId}/replay`);
      expect(one.status).toBe(202);
      await eventually(async () => (down.received.length === 7 ? true : undefined), 'the single replay');
    } finally {
      await down.stop();
    }
  });

  it('a 410 disables the endpoint at once; enabling it again resumes deliveries', async () => {
    const gone = await startReceiver();
    try {
      const endpoint = await register(gone.url, ['webhook.test']);
      gone.answer = () => ({ status: 410 });
      await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      const disabled = await eventually(async () => {
        const e = await api(stack, 'GET', `/v1/webhooks/${endpoint.id}`);
        return e.body.enabled === false ? e.body : undefined;
      }, 'the endpoint to be disabled');
      expect(disabled.disabledReason).toMatch(/410/);
      expect(gone.received).toHaveLength(1);

      gone.answer = () => ({ status: 200 });
      const enabled = await api(stack, 'PATCH', `/v1/webhooks/${endpoint.id}`, { enabled: true });
      expect(enabled.body).toMatchObject({ enabled: true, consecutiveFailures: 0 });
      await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/test`);
      await eventually(async () => (gone.received.length === 2 ? true : undefined), 'a delivery after enabling');
      expect(gone.received[1]?.status).toBe(200);
    } finally {
      await gone.stop();
    }
  });

  it('a rotated secret: both the old and the new one verify for a day', async () => {
    const endpoint = await register(receiver.url, ['webhook.test']);
    const rotated = await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    const test = await api(stack, 'POST', `/v1/webhooks/${endpoint.id}/test`);
    const r = await eventually(
      async () => receiver.received.find((x) => x.headers['webhook-id'] === test.body.deliveryId),
      'the test event',
    );
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verified(endpoint.secret, r).type).toBe('webhook.test');
    expect(verified(rotated.body.secret, r).type).toBe('webhook.test');
    // The secret is never shown again.
    const read = await api(stack, 'GET', `/v1/webhooks/${endpoint.id}`);
    expect(JSON.stringify(read.body)).not.toContain('whsec_');
    await api(stack, 'DELETE', `/v1/webhooks/${endpoint.id}`);
  });

  it('suppression changes are told as suppression.added and suppression.removed', async () => {
    const endpoint = await register(receiver.url, ['suppression.*']);
    await api(stack, 'PUT', '/v1/suppressions/someone@example.org', {});
    await api(stack, 'DELETE', '/v1/suppressions/someone@example.org');
    const types = await eventually(async () => {
      const t = receiver.received
        .map((r) => JSON.parse(r.body) as { type: string; data: { address?: string } })
        .filter((e) => e.data.address === 'someone@example.org')
        .map((e) => e.type);
      return t.length >= 2 ? t : undefined;
    }, 'both suppression events');
    expect(types.sort()).toEqual(['suppression.added', 'suppression.removed']);
    await api(stack, 'DELETE', `/v1/webhooks/${endpoint.id}`);
  });

  it('refuses bad endpoints with a 422 and creates nothing', async () => {
    const before = (await api(stack, 'GET', '/v1/webhooks')).body.data.length;
    const badType = await api(stack, 'POST', '/v1/webhooks', { url: receiver.url, events: ['email.sentt'] });
    expect(badType).toMatchObject({ status: 422, body: { error: { code: 'validation_failed' } } });
    const badUrl = await api(stack, 'POST', '/v1/webhooks', { url: 'ftp://example.org/x', events: ['*'] });
    expect(badUrl).toMatchObject({ status: 422, body: { error: { details: [{ path: 'url' }] } } });
    const missing = await api(stack, 'GET', '/v1/webhooks/ep_nothere');
    expect(missing.status).toBe(404);
    expect((await api(stack, 'GET', '/v1/webhooks')).body.data.length).toBe(before);
  });
});

/** The receiver the README shows, run as a reader would run it: its own Node process. */
function readmeReceiver(secret: string, port: number) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const code = /```js\n(\/\/ receiver\.mjs[\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error('README.md has no receiver.mjs example');
  // Inside the repository, so that `standardwebhooks` resolves as it does for a reader running it here.
  mkdirSync(join(ROOT, '.local'), { recursive: true });
  const file = join(ROOT, '.local', `receiver-${process.pid}.mjs`);
  writeFileSync(file, code);
  const child = spawn(process.execPath, [file], {
    env: { PATH: process.env.PATH ?? '', WEBHOOK_SECRET: secret, PORT: String(port) },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  return {
    lines: () => out.split('\n').filter(Boolean),
    ready: () => eventually(async () => (out.includes('listening') ? true : undefined), 'the receiver to listen'),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
      rmSync(file, { force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('the README receiver', () => {
  it('verifies and prints each event; stopped, the deliveries wait; started again, each arrives once more, same id', async () => {
    const port = await freePort();
    const endpoint = await register(`http://127.0.0.1:${port}/hooks`, ['email.*']);
    let receiver = readmeReceiver(endpoint.secret, port);
    try {
      await receiver.ready();
      const first = await api(stack, 'POST', '/v1/emails', email('bounce+readme@simulator.amazonses.com', 'readme-1'));
      const printed = await eventually(async () => {
        const mine = receiver.lines().filter((l) => l.includes(first.body.id));
        return mine.length >= 3 ? mine : undefined;
      }, 'the receiver to print three events');
      expect(printed.map((l) => l.split(' ')[1]).sort()).toEqual(['email.bounced', 'email.queued', 'email.sent']);

      // Stopped: the deliveries of the next email wait, retrying.
      await receiver.stop();
      const second = await api(stack, 'POST', '/v1/emails', email('success@simulator.amazonses.com', 'readme-2'));
      await statusOf(stack, second.body.id, 'delivered');
      const waiting = await eventually(async () => {
        const l = await api(stack, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?status=retrying`);
        return l.body.data.length >= 3 ? l.body.data : undefined;
      }, 'three deliveries to wait');
      // Started again: each arrives, with the id it had while waiting.
      receiver = readmeReceiver(endpoint.secret, port);
      await receiver.ready();
      const after = await eventually(
        async () => {
          const mine = receiver.lines().filter((l) => l.includes(second.body.id));
          return mine.length >= 3 ? mine : undefined;
        },
        'the waiting events',
        30_000,
      );
      const ids = after.map((l) => l.split(' ')[0]);
      expect(new Set(ids).size).toBe(3);
      for (const d of waiting as { id: string }[]) expect(ids).toContain(d.id);
      expect(after.map((l) => l.split(' ')[1]).sort()).toEqual(['email.delivered', 'email.queued', 'email.sent']);
    } finally {
      await receiver.stop();
      await api(stack, 'DELETE', `/v1/webhooks/${endpoint.id}`);
    }
  });
});
