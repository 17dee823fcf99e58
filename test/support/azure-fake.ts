/**
 * A local fake of the Azure Communication Services Email REST API (REFERENCE §3), for driving the
 * real @azure/communication-email SDK in tests. Listens on 127.0.0.1, port 0.
 *
 * Auth: every request must carry the HMAC-SHA256 signature the SDK computes
 * (communication-common's access-key policy): `x-ms-content-sha256` must be base64(SHA-256(body)),
 * and `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=…`
 * must equal base64(HMAC-SHA256(base64decode(accessKey),
 * `${VERB}\n${pathAndQuery}\n${x-ms-date};${host};${contentHash}`)). Anything else → 401.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type AzureFault =
  | { status: 429; retryAfter?: number }
  | { status: 500 | 502 | 503 }
  | { status: 401 | 403 }
  | { status: 400; code?: string; message?: string }
  | { kind: 'reset-before-response' }
  | { kind: 'delay'; ms: number }
  /** Accept the POST (202) but report this status in its body (e.g. Failed with an error). */
  | { kind: 'initial-status'; status: 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' };

export interface SentRecord {
  operationId: string;
  message: Record<string, unknown>;
}

export interface AzureFake {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  endpoint: string;
  connectionString: string;
  /** Every send the fake accepted, once per operation id. */
  sent: SentRecord[];
  /** Every request the fake received, after auth (method and path). */
  requests: Array<{ method: string; path: string }>;
  /** Requests refused with 401 because of the signature. */
  authFailures: string[];
  /** Applies to the next POST(s), in order. */
  queueFault(fault: AzureFault): void;
  /** Status the GET operation endpoint reports. @default 'Succeeded' */
  setOperationStatus(status: 'NotStarted' | 'Running' | 'Succeeded' | 'Failed'): void;
  stop(): Promise<void>;
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why the request's HMAC signature is wrong, or undefined when it is right. */
export function verifyHmac(
  method: string,
  rawUrl: string,
  headers: IncomingMessage['headers'],
  body: Buffer,
  accessKey: string,
): string | undefined {
  const date = headers['x-ms-date'];
  const contentHash = headers['x-ms-content-sha256'];
  const host = headers.host;
  const auth = headers.authorization;
  if (typeof date !== 'string' || typeof contentHash !== 'string' || typeof host !== 'string') {
    return 'missing x-ms-date, x-ms-content-sha256 or host';
  }
  if (typeof auth !== 'string') return 'missing Authorization';
  const expectedHash = createHash('sha256').update(body).digest('base64');
  if (!safeEqual(contentHash, expectedHash)) return 'x-ms-content-sha256 does not match the body';
  const m = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/.exec(auth);
  if (!m) return 'Authorization is not HMAC-SHA256';
  if (m[1]?.toLowerCase() !== 'x-ms-date;host;x-ms-content-sha256') return 'unexpected SignedHeaders';
  const skew = Math.abs(Date.now() - Date.parse(date));
  if (Number.isNaN(skew) || skew > 15 * 60 * 1000) return 'x-ms-date is missing or too far from now';
  // The SDK signs url.pathname + '?' + url.searchParams.toString(): normalise the same way.
  const url = new URL(rawUrl, `http://${host}`);
  const query = url.searchParams.toString();
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname;
  const stringToSign = `${method.toUpperCase()}\n${pathAndQuery}\n${date};${host};${contentHash}`;
  const expected = createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign).digest('base64');
  return safeEqual(m[2] ?? '', expected) ? undefined : 'signature mismatch';
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | number> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, extra = {}): void {
  sendJson(res, status, { error: { code, message } }, { 'x-ms-error-code': code, ...extra });
}

export async function startAzureFake(options: { accessKey?: string } = {}): Promise<AzureFake> {
  const accessKey = options.accessKey ?? randomBytes(32).toString('base64');
  const faults: AzureFault[] = [];
  const operations = new Map<string, { body: Buffer }>();
  const sent: SentRecord[] = [];
  const requests: AzureFake['requests'] = [];
  const authFailures: string[] = [];
  const sockets = new Set<Socket>();
  let operationStatus: 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' = 'Succeeded';
  let endpoint = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, endpoint);
    const apiVersion = url.searchParams.get('api-version');

    const authError = verifyHmac(method, rawUrl, req.headers, body, accessKey);
    if (authError) {
      authFailures.push(authError);
      sendError(res, 401, 'Denied', `Denied by the fake: ${authError}`);
      return;
    }
    requests.push({ method, path: url.pathname });
    if (!apiVersion) {
      sendError(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter is required.');
      return;
    }

    if (method === 'POST' && url.pathname === '/emails:send') {
      let fault = faults.shift();
      let initialStatus: 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' = 'Running';
      if (fault && 'kind' in fault && fault.kind === 'initial-status') {
        initialStatus = fault.status;
        fault = undefined;
      }
      if (fault && 'kind' in fault) {
        if (fault.kind === 'reset-before-response') {
          req.socket.destroy();
          return;
        }
        if (fault.kind === 'delay') {
          const { ms } = fault;
          await new Promise((r) => setTimeout(r, ms));
          if (res.destroyed || req.socket.destroyed) return;
        }
      } else if (fault) {
        if (fault.status === 429) {
          sendError(res, 429, 'TooManyRequests', 'Too many requests: rate limit exceeded.', {
            ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}),
          });
        } else if (fault.status === 400) {
          sendError(res, 400, fault.code ?? 'BadRequest', fault.message ?? 'The request is invalid.');
        } else if (fault.status === 401 || fault.status === 403) {
          sendError(res, fault.status, 'Denied', 'Denied: the credentials are not valid for this resource.');
        } else {
          sendError(res, fault.status, 'InternalServerError', 'The service had an internal error.');
        }
        return;
      }
      const headerId = req.headers['operation-id'];
      const id = typeof headerId === 'string' && headerId ? headerId : crypto.randomUUID();
      if (!operations.has(id)) {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        } catch {
          sendError(res, 400, 'InvalidJson', 'The body is not JSON.');
          return;
        }
        operations.set(id, { body });
        sent.push({ operationId: id, message });
      }
      const failed = initialStatus === 'Failed';
      sendJson(
        res,
        202,
        failed
          ? { id, status: 'Failed', error: { code: 'InvalidSender', message: 'The sender domain is not linked.' } }
          : { id, status: initialStatus },
        {
          'operation-location': `${endpoint}/emails/operations/${id}?api-version=${apiVersion}`,
          'retry-after': 1,
        },
      );
      return;
    }

    const op = /^\/emails\/operations\/([^/]+)$/.exec(url.pathname);
    if (method === 'GET' && op) {
      const id = decodeURIComponent(op[1] ?? '');
      if (!operations.has(id)) {
        sendError(res, 404, 'NotFound', `Operation ${id} was not found.`);
        return;
      }
      if (operationStatus === 'Failed') {
        sendJson(res, 200, { id, status: 'Failed', error: { code: 'EmailDropped', message: 'Email was dropped.' } });
      } else {
        const running = operationStatus !== 'Succeeded';
        sendJson(res, 200, { id, status: operationStatus }, running ? { 'retry-after': 1 } : {});
      }
      return;
    }
    sendError(res, 404, 'NotFound', `No route for ${method} ${url.pathname}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'FakeError', String(error));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    connectionString: `endpoint=${endpoint}/;accessKey=${accessKey}`,
    sent,
    requests,
    authFailures,
    queueFault: (f) => {
      faults.push(f);
    },
    setOperationStatus: (s) => {
      operationStatus = s;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
