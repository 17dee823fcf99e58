/**
 * The HTTP provider against a real local receiver (node:http on 127.0.0.1): the wire contract as
 * documented for users, and how each answer (or its absence) is classified.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundEmail } from '../../functions/ports';
import { HttpProvider } from '../../functions/providers/http';
import { outbound } from '../support/records';

interface Recorded {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

type Responder = (req: IncomingMessage, res: ServerResponse) => void;

interface Receiver {
  readonly url: string;
  readonly requests: Recorded[];
  /** How the next request is answered (then back to 200 `{}`). */
  next(responder: Responder): void;
  close(): Promise<void>;
}

const ok: Responder = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function shut(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function startReceiver(): Promise<Receiver> {
  const requests: Recorded[] = [];
  let pending: Responder | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const responder = pending ?? ok;
      pending = undefined;
      responder(req, res);
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/v1/send`,
    requests,
    next: (responder) => {
      pending = responder;
    },
    close: () => shut(server),
  };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Responder =>
  (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

const email: OutboundEmail = outbound({
  id: 'msg-0001',
  to: ['"Ünï Cödé" <user@example.org>', 'second@example.org'],
  subject: 'Your receipt – #42',
});

const TOKEN = 'tok_live_0123456789';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterEach(() => {
  receiver.requests.length = 0;
  receiver.next(ok);
});
afterAll(async () => {
  await receiver.close();
});

const provider = (token?: string, timeoutMs?: number) =>
  new HttpProvider('relay', {
    url: receiver.url,
    ...(token !== undefined ? { token } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });

describe('HttpProvider against a local receiver', () => {
  it('POSTs the documented JSON with Content-Type, bearer token and Idempotency-Key', async () => {
    receiver.next(json(202, { id: 'rcv-77' }));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'accepted', providerMessageId: 'rcv-77' });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/send');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['idempotency-key']).toBe('msg-0001');
    expect(request?.body).toBe(
      JSON.stringify({
        id: 'msg-0001',
        from: '"Acme" <app@example.com>',
        to: ['"Ünï Cödé" <user@example.org>', 'second@example.org'],
        cc: [],
        bcc: ['audit@example.org'],
        replyTo: ['support@example.com'],
        subject: 'Your receipt – #42',
        html: '<p>Hello</p>',
        text: 'Hello',
        headers: { 'X-Entity-Ref': 'abc' },
      }),
    );
  });

  it('sends no Authorization header without a token, and omits absent bodies', async () => {
    const { html: _html, ...textOnly } = email;
    receiver.next((_req, res) => res.writeHead(204).end());
    expect(await provider().send(textOnly)).toEqual({ kind: 'accepted', providerMessageId: 'http:msg-0001' });
    const [request] = receiver.requests;
    expect(request?.headers).not.toHaveProperty('authorization');
    expect(request?.headers['idempotency-key']).toBe('msg-0001');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      id: 'msg-0001',
      from: '"Acme" <app@example.com>',
      to: ['"Ünï Cödé" <user@example.org>', 'second@example.org'],
      cc: [],
      bcc: ['audit@example.org'],
      replyTo: ['support@example.com'],
      subject: 'Your receipt – #42',
      text: 'Hello',
      headers: { 'X-Entity-Ref': 'abc' },
    });
  });

  it('accepts a 2xx without an id as http:<message id>', async () => {
    receiver.next(json(200, { ok: true }));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'accepted', providerMessageId: 'http:msg-0001' });
    receiver.next((_req, res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('queued'));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'accepted', providerMessageId: 'http:msg-0001' });
  });

  it('reads 429 with Retry-After in seconds as throttled', async () => {
    receiver.next(json(429, { error: 'slow down' }, { 'Retry-After': '30' }));
    expect(await provider(TOKEN).send(email)).toEqual({
      kind: 'throttled',
      reason: 'HTTP 429 Too Many Requests',
      retryAfterSeconds: 30,
    });
  });

  it('reads 429 with Retry-After as an HTTP date', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 120_000).toUTCString();
    receiver.next(json(429, {}, { 'Retry-After': at }));
    const out = await provider(TOKEN).send(email);
    expect(out.kind).toBe('throttled');
    const seconds = out.kind === 'throttled' ? out.retryAfterSeconds : undefined;
    expect(seconds).toBeGreaterThanOrEqual(118);
    expect(seconds).toBeLessThanOrEqual(121);
  });

  it('reads 429 without Retry-After as throttled with no delay', async () => {
    receiver.next(json(429, {}));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'throttled', reason: 'HTTP 429 Too Many Requests' });
  });

  it('reads 503 as down', async () => {
    receiver.next(json(503, { error: 'maintenance' }));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'down', reason: 'HTTP 503 Service Unavailable' });
  });

  it.each([
    [401, 'HTTP 401 Unauthorized'],
    [403, 'HTTP 403 Forbidden'],
  ])('reads %i as broken configuration', async (status, reason) => {
    receiver.next((_req, res) => res.writeHead(status).end());
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'broken', reason });
  });

  it('keeps the token out of a reason a receiver echoes it in', async () => {
    receiver.next(json(401, { error: `invalid token ${TOKEN}` }));
    const out = await provider(TOKEN).send(email);
    expect(out.kind).toBe('broken');
    expect(JSON.stringify(out)).not.toContain(TOKEN);
  });

  it('reads 422 as rejected with the receiver’s error', async () => {
    receiver.next(json(422, { error: 'bad recipient' }));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'rejected', reason: 'bad recipient' });
  });

  it('reads another 4xx without a JSON error as rejected with the status text', async () => {
    receiver.next((_req, res) => res.writeHead(413, { 'Content-Type': 'text/html' }).end('<h1>too big</h1>'));
    expect(await provider(TOKEN).send(email)).toEqual({ kind: 'rejected', reason: 'Payload Too Large' });
  });

  it('does not follow a redirect (no re-POST elsewhere): broken configuration', async () => {
    receiver.next((_req, res) => res.writeHead(307, { Location: '/v2/send' }).end());
    expect(await provider(TOKEN).send(email)).toEqual({
      kind: 'broken',
      reason: 'HTTP 307 Temporary Redirect (unexpected answer; is the URL right?)',
    });
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('HttpProvider without an answer', () => {
  it('reads a closed port as down (the request never left)', async () => {
    const server = createServer();
    const port = await listen(server);
    await shut(server);
    const out = await new HttpProvider('relay', { url: `http://127.0.0.1:${port}/send`, token: TOKEN }).send(email);
    expect(out.kind).toBe('down');
    expect(out.kind !== 'accepted' && out.reason).toContain('ECONNREFUSED');
    expect(JSON.stringify(out)).not.toContain(TOKEN);
  });

  it('reads a receiver that never answers as ambiguous once the timeout passes', async () => {
    const started = Date.now();
    receiver.next(() => {
      // Read the request, never answer.
    });
    const out = await provider(TOKEN, 200).send(email);
    expect(out.kind).toBe('ambiguous');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(receiver.requests).toHaveLength(1);
  });

  it('reads a socket destroyed after the request was read as ambiguous', async () => {
    receiver.next((req) => {
      req.socket.destroy();
    });
    const out = await provider(TOKEN).send(email);
    expect(out.kind).toBe('ambiguous');
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
  });

  it('still accepts a 2xx whose body never finishes', async () => {
    receiver.next((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"id":');
    });
    expect(await provider(TOKEN, 200).send(email)).toEqual({ kind: 'accepted', providerMessageId: 'http:msg-0001' });
  });
});
