/**
 * A local stand-in for a user's HTTP relay (the HTTP provider's wire contract) on 127.0.0.1: it
 * records every request and deduplicates by Idempotency-Key like a real relay would, and it can be
 * told how to behave — per relay or per request:
 *
 * - `accept`: 202 `{"id"}`; a repeat of a key it already took gets the same answer and is not
 *   sent again.
 * - `error`: 500. `throttle`: 429 with Retry-After; `throttle-bare`: 429 without one (as SES throttles).
 *   `unauthorized`: 401. Nothing is taken.
 * - `hang`: the relay takes the message, then never answers (the client times out after the
 *   request left: an ambiguous outcome). `reset`: takes it, then drops the connection.
 * - `refuse()`: nothing listens on the port until `listen()` (connection refused: nothing left
 *   the client).
 *
 * "Takes" means the relay sent the email on: `sent()` lists each message id at most once.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RelayMode = 'accept' | 'error' | 'throttle' | 'throttle-bare' | 'hang' | 'reset' | 'unauthorized';

export interface RelayRequest {
  /** The Idempotency-Key (the mailroute message id). */
  readonly id: string;
  /** When the request arrived (ms since the epoch). */
  readonly at: number;
  readonly mode: RelayMode;
  /** Whether this request made the relay send the email (its first accepted, hung or reset request). */
  readonly took: boolean;
  /** A repeat of a key the relay had already taken, answered with the stored answer. */
  readonly duplicate: boolean;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

/** How to answer one request: a mode for every request, or one chosen per request. */
export type Behaviour = RelayMode | ((id: string, body: Record<string, unknown>) => RelayMode);

export interface Relay {
  readonly url: string;
  readonly requests: readonly RelayRequest[];
  /** Message ids the relay sent on, each once, in order. */
  sent(): string[];
  /** Requests for one message id. */
  requestsFor(id: string): RelayRequest[];
  /** Arrival times of every request (what a provider's own rate limit counts). */
  times(): number[];
  /** How the following requests are answered. */
  behave(behaviour: Behaviour): void;
  /** Seconds in the Retry-After of a 429. @default 1 */
  retryAfter(seconds: number): void;
  /** Stops listening (connections are refused) until `listen()`; open connections are dropped. */
  refuse(): Promise<void>;
  listen(): Promise<void>;
  readonly listening: boolean;
  close(): Promise<void>;
}

interface Taken {
  readonly status: number;
  readonly body: string;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function startRelay(): Promise<Relay> {
  const requests: RelayRequest[] = [];
  const taken = new Map<string, Taken>();
  const sockets = new Set<Socket>();
  let behaviour: Behaviour = 'accept';
  let retryAfterSeconds = 1;
  let port = 0;
  let listening = false;
  let closed = false;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const at = Date.now();
    const body = await readJson(req);
    const key = req.headers['idempotency-key'];
    const id = typeof key === 'string' ? key : '';
    const mode = typeof behaviour === 'function' ? behaviour(id, body) : behaviour;
    const previous = taken.get(id);
    const takes = (mode === 'accept' || mode === 'hang' || mode === 'reset') && !previous && id !== '';
    if (takes) taken.set(id, { status: 202, body: JSON.stringify({ id: `relay-${randomUUID()}` }) });
    requests.push({
      id,
      at,
      mode,
      took: takes,
      duplicate: mode === 'accept' && previous !== undefined,
      authorization: req.headers.authorization,
      body,
    });
    const json = (status: number, payload: string, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(payload);
    switch (mode) {
      case 'accept': {
        const answer = taken.get(id) ?? { status: 400, body: '{"error":"Idempotency-Key is required"}' };
        return json(answer.status, answer.body);
      }
      case 'error':
        return json(500, '{"error":"relay unavailable"}');
      case 'throttle':
        return json(429, '{"error":"slow down"}', { 'Retry-After': String(retryAfterSeconds) });
      case 'throttle-bare':
        return json(429, '{"error":"slow down"}');
      case 'unauthorized':
        return json(401, '{"error":"bad token"}');
      case 'hang':
        return; // never answered; dropped when the relay closes
      case 'reset':
        req.socket.destroy();
        return;
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const open = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        listening = true;
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      listening = false;
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await open();
  return {
    url: `http://127.0.0.1:${port}/v1/send`,
    requests,
    sent: () => requests.filter((r) => r.took).map((r) => r.id),
    requestsFor: (id) => requests.filter((r) => r.id === id),
    times: () => requests.map((r) => r.at),
    behave: (b) => {
      behaviour = b;
    },
    retryAfter: (s) => {
      retryAfterSeconds = s;
    },
    refuse: async () => {
      if (listening) await shut();
    },
    listen: async () => {
      if (!listening && !closed) await open();
    },
    get listening() {
      return listening;
    },
    close: async () => {
      closed = true;
      if (listening) await shut();
    },
  };
}
