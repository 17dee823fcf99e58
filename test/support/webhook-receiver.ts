/** A webhook receiver on a free local port: records each request's exact bytes and headers, answers as told. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** What the next requests are answered with (status, headers). */
  answer: (req: { headers: IncomingHttpHeaders; body: string }) => { status: number; headers?: Record<string, string> };
  stop(): Promise<void>;
}

export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200 }),
    stop: async () => undefined,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { status, headers } = receiver.answer({ headers: req.headers, body });
      receiver.received.push({ headers: req.headers, body, status });
      res.writeHead(status, headers ?? {});
      res.end(status >= 300 ? 'not now' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}${path}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
