/**
 * The HTTP side of webhook deliveries: a POST with a 15 s limit, no redirect followed, at most a few
 * KiB of the response read (and never kept), and in AWS every address the host resolves to checked
 * at connect time (the lookup the socket connects with refuses private ones), so a host cannot pass
 * the check when saved and resolve to the metadata service later.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isBlockedAddress, type UrlPolicy } from '../core/webhook-address';
import type { WebhookResponse, WebhookSender } from '../ports';

/** How long one attempt may take, connect to last byte. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** How much of a response is read before the connection is dropped. */
export const RESPONSE_READ_LIMIT = 4096;

/** Every address `host` resolves to. */
export const resolveHost = (host: string): Promise<string[]> =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses: LookupAddress[]) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    ),
  );

/** A lookup that fails for hosts resolving to any private, loopback, link-local or reserved address. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked || addresses.length === 0) {
      const refused = Object.assign(new Error(`${hostname} resolves to an address webhooks may not reach`), {
        code: 'EWEBHOOKADDRESS',
      });
      return callback(refused, '', 0);
    }
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0] as LookupAddress;
    return callback(null, first.address, first.family);
  });
};

export class HttpWebhookSender implements WebhookSender {
  constructor(
    private readonly policy: UrlPolicy,
    private readonly timeoutMs: number = WEBHOOK_TIMEOUT_MS,
  ) {}

  post(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<WebhookResponse> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return resolve({ kind: 'error', error: 'the endpoint URL is not valid' });
      }
      if (target.protocol !== 'https:' && !(this.policy.allowPrivate && target.protocol === 'http:')) {
        return resolve({ kind: 'error', error: 'the endpoint URL is not https' });
      }
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const bytes = Buffer.from(body, 'utf8');
      let settled = false;
      const done = (r: WebhookResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = send(
        target,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(bytes.byteLength) },
          ...(this.policy.allowPrivate ? {} : { lookup: guardedLookup }),
          agent: false,
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const retryAfter = res.headers['retry-after'];
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.byteLength;
            if (read > RESPONSE_READ_LIMIT) res.destroy();
          });
          const answer = () => done({ kind: 'response', status, ...(retryAfter ? { retryAfter } : {}) });
          res.on('end', answer);
          res.on('close', answer);
          res.on('error', answer);
        },
      );
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
      }, this.timeoutMs);
      req.on('error', (error: Error & { code?: string }) =>
        done({ kind: 'error', error: (error.code ? `${error.code}: ` : '') + error.message.slice(0, 200) }),
      );
      req.end(bytes);
    });
  }
}
