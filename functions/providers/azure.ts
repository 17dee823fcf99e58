/**
 * Azure Communication Services Email behind the provider interface (REFERENCE §3).
 *
 * - The SDK's own retries are off (`retryOptions.maxRetries: 0`, which also turns off its 429
 *   throttling retries): every retry is the dispatcher's decision, made with the outcome classified
 *   here.
 * - The operation id is a UUIDv5 of our message id, so a retry of the same message reuses the same
 *   `Operation-Id` and Azure cannot queue a second send: the provider is `idempotent`.
 * - We wait only until Azure has accepted the operation (the 202 of `POST /emails:send`), never for
 *   the final status: delivery outcomes come later through Event Grid, and polling would cost the
 *   small "get status" quota (60/min) on every send.
 */
import { createHash } from 'node:crypto';
import { EmailClient, type EmailMessage } from '@azure/communication-email';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { SendOutcome } from '../core/dispatch';
import { MESSAGE_ID_HEADER } from '../core/message';
import type { EmailProvider, OutboundEmail } from '../ports';
import { NOT_SENT_CODES } from './network';

/** Fixed namespace of mailroute's Azure operation ids (random, never change it: ids would change). */
export const OPERATION_ID_NAMESPACE = '3f0b6c2e-8d4a-4f1e-9b7c-5a2d1e6f9c40';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 9562 UUID version 5 (SHA-1 of namespace bytes + UTF-8 name). */
export function uuidV5(name: string, namespace: string): string {
  if (!UUID.test(namespace)) throw new Error(`not a UUID: ${namespace}`);
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Azure operation id of a mailroute message: the same for every attempt to send it. */
export function operationIdFor(messageId: string): string {
  return uuidV5(messageId, OPERATION_ID_NAMESPACE);
}

export interface AzureAddress {
  address: string;
  displayName?: string;
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase(), { fatal: false }).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** Decodes RFC 2047 encoded words (B and Q); whitespace between adjacent encoded words is dropped. */
export function decodeEncodedWords(value: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  return value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1').replace(word, (all, charset, enc, text) => {
    const cs = String(charset).split('*')[0] ?? 'utf-8';
    if (String(enc).toUpperCase() === 'B') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return all;
      return decodeCharset(Buffer.from(String(text), 'base64'), cs);
    }
    const bytes: number[] = [];
    const q = String(text);
    for (let i = 0; i < q.length; i++) {
      const c = q[i] ?? '';
      const hex = q.slice(i + 1, i + 3);
      if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else if (c === '_') bytes.push(0x20);
      else bytes.push(...Buffer.from(c, 'utf8'));
    }
    return decodeCharset(Buffer.from(bytes), cs);
  });
}

/**
 * A formatted mailbox as Azure wants it: `a@b`, `<a@b>`, `Name <a@b>`, `"Doe, Jane" <a@b>` or
 * `=?UTF-8?B?…?= <a@b>` → `{ address, displayName? }` (display name unquoted and decoded).
 */
export function toAzureAddress(formatted: string): AzureAddress {
  const s = formatted.trim();
  const angle = /^(.*?)\s*<([^<>]*)>$/.exec(s);
  if (!angle) return { address: s };
  const address = (angle[2] ?? '').trim();
  let name = (angle[1] ?? '').trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(name)) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  name = decodeEncodedWords(name).trim();
  return name ? { address, displayName: name } : { address };
}

/** Maps the queued email to the SDK's message. */
export function toEmailMessage(email: OutboundEmail): EmailMessage {
  const headers: Record<string, string> = { ...email.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === MESSAGE_ID_HEADER.toLowerCase())) {
    headers[MESSAGE_ID_HEADER] = email.id;
  }
  const base = {
    senderAddress: toAzureAddress(email.from).address,
    recipients: {
      to: email.to.map(toAzureAddress),
      ...(email.cc.length > 0 ? { cc: email.cc.map(toAzureAddress) } : {}),
      ...(email.bcc.length > 0 ? { bcc: email.bcc.map(toAzureAddress) } : {}),
    },
    ...(email.replyTo.length > 0 ? { replyTo: email.replyTo.map(toAzureAddress) } : {}),
    headers,
    // mailroute rewrites links and adds its own open pixel: Azure must not track too.
    disableUserEngagementTracking: true,
    // Inline images are the attachments with a contentId (the HTML's cid:), as Azure takes them.
    ...(email.files && email.files.length > 0
      ? {
          attachments: email.files.map((f) => ({
            name: f.filename,
            contentType: f.contentType,
            contentInBase64: Buffer.from(f.content).toString('base64'),
            ...(f.disposition === 'inline' && f.contentId !== undefined ? { contentId: f.contentId } : {}),
          })),
        }
      : {}),
  };
  if (email.html !== undefined) {
    return {
      ...base,
      content: {
        subject: email.subject,
        html: email.html,
        ...(email.text !== undefined ? { plainText: email.text } : {}),
      },
    };
  }
  return { ...base, content: { subject: email.subject, plainText: email.text ?? '' } };
}

interface HeadersLike {
  get(name: string): string | undefined;
}

interface AzureErrorShape {
  name?: string;
  code?: string;
  message?: string;
  statusCode?: number;
  response?: { headers?: HeadersLike; status?: number };
}

/** Never let a key or a signature reach a reason that is stored and logged. */
function redact(text: string): string {
  return text.replace(/(accesskey=|signature=|authorization["':\s]+)[^;&\s"',]+/gi, '$1[redacted]');
}

function reasonOf(prefix: string, e: AzureErrorShape): string {
  const parts = [prefix, e.code, e.message].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return redact([...new Set(parts)].join(': ')).slice(0, 500);
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or bad. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number.parseInt(v, 10);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Classifies an error thrown by EmailClient.beginSend (a core-rest-pipeline RestError, or AbortError). */
export function classifyAzureError(error: unknown): SendOutcome {
  const e: AzureErrorShape = typeof error === 'object' && error !== null ? (error as AzureErrorShape) : {};
  const status = e.statusCode ?? e.response?.status;
  const name = e.name && e.name !== 'Error' && e.name !== 'RestError' ? e.name : 'Azure';
  if (status === 429) {
    const headers = e.response?.headers;
    const retryAfter =
      parseRetryAfter(headers?.get('retry-after')) ??
      (() => {
        const ms = parseRetryAfter(headers?.get('retry-after-ms'));
        return ms === undefined ? undefined : Math.ceil(ms / 1000);
      })();
    const reason = reasonOf(`HTTP 429`, e);
    return retryAfter === undefined
      ? { kind: 'throttled', reason }
      : { kind: 'throttled', reason, retryAfterSeconds: retryAfter };
  }
  if (status !== undefined) {
    const reason = reasonOf(`HTTP ${status}`, e);
    if (status === 401 || status === 403) return { kind: 'broken', reason };
    if (status >= 500) return { kind: 'down', reason };
    if (status >= 400) return { kind: 'rejected', reason };
    // 1xx/2xx/3xx that still threw (an unexpected answer): we cannot tell whether it was queued.
    return { kind: 'ambiguous', reason };
  }
  const reason = reasonOf(name, e);
  if (e.code && NOT_SENT_CODES.has(e.code)) return { kind: 'down', reason };
  // "Cannot connect to http://… while allowInsecureConnection is false": refused before sending.
  if (/allowInsecureConnection is false/.test(e.message ?? '')) return { kind: 'broken', reason };
  // No HTTP status: timeout (AbortError), socket reset or hang-up after the request left: the
  // operation may or may not have been queued.
  return { kind: 'ambiguous', reason };
}

export interface AzureClientOptions {
  /** Per-request timeout. @default 10000 */
  timeoutMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An EmailClient for mailroute: no SDK retries, a request timeout. Plain http is allowed only for
 * a loopback endpoint (the local fake in tests): core-rest-pipeline refuses non-TLS URLs unless
 * the client option `allowInsecureConnection` is set.
 */
export function azureEmailClient(connectionString: string, options: AzureClientOptions = {}): EmailClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const endpoint = /(?:^|;)\s*endpoint=([^;]+)/i.exec(connectionString)?.[1]?.trim() ?? '';
  let insecureLoopback = false;
  try {
    const url = new URL(endpoint);
    insecureLoopback = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  } catch {
    // EmailClient reports the malformed connection string itself.
  }
  const timeoutPolicy: PipelinePolicy = {
    name: 'mailrouteRequestTimeout',
    sendRequest(request, next) {
      if (!request.timeout) request.timeout = timeoutMs;
      return next(request);
    },
  };
  return new EmailClient(connectionString, {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: timeoutPolicy, position: 'perCall' }],
    ...(insecureLoopback ? { allowInsecureConnection: true } : {}),
  });
}

interface RawResponse {
  status: number;
  parsedBody?: unknown;
  request: { method: string };
}

interface SendResultBody {
  id?: string;
  status?: string;
  error?: { code?: string; message?: string };
}

const ACCEPTED_STATUSES = new Set(['notstarted', 'running', 'succeeded']);

export class AzureEmailProvider implements EmailProvider {
  readonly idempotent = true;
  private readonly pollIntervalMs: number;

  constructor(
    readonly id: string,
    private readonly client: EmailClient,
    options: { pollIntervalMs?: number } = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
  }

  async send(email: OutboundEmail): Promise<SendOutcome> {
    const operationId = operationIdFor(email.id);
    let initial: RawResponse | undefined;
    // beginSend sends the POST and then polls once at once (core-lro). Once the POST has answered
    // we abort: the poll fails before it leaves (no status request spent) and we decide from the
    // POST alone.
    const stopAfterPost = new AbortController();
    try {
      const poller = await this.client.beginSend(toEmailMessage(email), {
        operationId,
        updateIntervalInMs: this.pollIntervalMs,
        abortSignal: stopAfterPost.signal,
        onResponse: (raw) => {
          if (raw.request.method === 'POST' && initial === undefined) {
            initial = { status: raw.status, parsedBody: raw.parsedBody, request: { method: raw.request.method } };
            stopAfterPost.abort();
          }
        },
      });
      // Only reached if the poll was not needed (the POST already reported a final status).
      return this.fromInitial(initial, operationId) ?? this.fromState(poller.getResult(), operationId);
    } catch (error) {
      const decided = this.fromInitial(initial, operationId);
      if (decided) return decided;
      return classifyAzureError(error);
    }
  }

  /** The outcome from the POST's answer, when it was a success status. */
  private fromInitial(initial: RawResponse | undefined, operationId: string): SendOutcome | undefined {
    if (!initial || initial.status < 200 || initial.status >= 300) return undefined;
    const body = (initial.parsedBody ?? {}) as SendResultBody;
    return this.fromState(body, operationId);
  }

  private fromState(body: SendResultBody | undefined, operationId: string): SendOutcome {
    const status = (body?.status ?? '').toLowerCase();
    if (ACCEPTED_STATUSES.has(status)) return { kind: 'accepted', providerMessageId: operationId };
    if (status === 'failed' || status === 'canceled') {
      const detail = [body?.error?.code, body?.error?.message].filter(Boolean).join(': ');
      return { kind: 'rejected', reason: redact(`Azure ${status}${detail ? `: ${detail}` : ''}`).slice(0, 500) };
    }
    return { kind: 'ambiguous', reason: `Azure answered with an unknown status "${body?.status ?? ''}"`.slice(0, 500) };
  }
}
