import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from '../../../functions/store/webhook-http';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('the webhook sender', () => {
  it('POSTs the exact bytes with the headers given, and reports the status and Retry-After', async () => {
    let got = '';
    const port = await serve((req, res) => {
      req.on('data', (c: Buffer) => {
        got += c.toString('utf8');
      });
      req.on('end', () => {
        res.writeHead(503, { 'retry-after': '7' });
        res.end('x'.repeat(100_000));
      });
    });
    const out = await new HttpWebhookSender({ allowPrivate: true }).post(
      `http://127.0.0.1:${port}/in`,
      { 'content-type': 'application/json' },
      '{"a": 1}',
    );
    expect(out).toEqual({ kind: 'response', status: 503, retryAfter: '7' });
    expect(got).toBe('{"a": 1}');
  });

  it('does not follow a redirect', async () => {
    let hits = 0;
    const port = await serve((_req, res) => {
      hits += 1;
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      res.end();
    });
    const out = await new HttpWebhookSender({ allowPrivate: true }).post(`http://127.0.0.1:${port}/`, {}, '{}');
    expect(out).toMatchObject({ kind: 'response', status: 302 });
    expect(hits).toBe(1);
  });

  it('in AWS, refuses at connect time a host that resolves to a loopback address', async () => {
    let hits = 0;
    const port = await serve((_req, res) => {
      hits += 1;
      res.end();
    });
    const out = await new HttpWebhookSender({ allowPrivate: false }).post(`https://localhost:${port}/`, {}, '{}');
    expect(out).toMatchObject({ kind: 'error', error: expect.stringMatching(/may not reach/) });
    expect(hits).toBe(0);
  });

  it('in AWS, refuses an http URL', async () => {
    const out = await new HttpWebhookSender({ allowPrivate: false }).post('http://example.com/', {}, '{}');
    expect(out).toMatchObject({ kind: 'error' });
  });

  it('gives up on a receiver that does not answer within the limit', async () => {
    const port = await serve(() => undefined);
    const out = await new HttpWebhookSender({ allowPrivate: true }, 200).post(`http://127.0.0.1:${port}/`, {}, '{}');
    expect(out).toMatchObject({ kind: 'error', error: expect.stringMatching(/ETIMEDOUT/) });
  });
});
