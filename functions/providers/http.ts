/**
 * A generic HTTP endpoint behind the provider interface: mailroute POSTs the email as JSON and the
 * receiver (the user's own relay) sends it. The wire contract is documented for users:
 *
 *   POST <url>, Content-Type: application/json, Authorization: Bearer <token> (when configured),
 *   Idempotency-Key: <message id>
 *   {"id","from","to","cc","bcc","replyTo","subject","html"?,"text"?,"headers","attachments"?}
 *   attachments: [{"filename","contentType","disposition":"attachment"|"inline","contentId"?,"content"}]
 *   (content in base64; present only when the email has attachments; an inline one's contentId is
 *   what the HTML names in `cid:`)
 *
 *   2xx (optional JSON {"id"}) → accepted      429 (Retry-After honoured) → throttled
 *   5xx or no connection      → down          401/403                    → broken
 *   other 4xx                 → rejected (reason from a JSON "error"/"message" field or the status text)
 *
 * The receiver deduplicates on the Idempotency-Key, so a retry after an ambiguous outcome (timeout,
 * socket reset after the request left) cannot send twice: the provider is `idempotent`.
 */
import type { SendOutcome } from '../core/dispatch';
import type { EmailProvider, OutboundEmail } from '../ports';
import { NOT_SENT_CODES } from './network';

export interface HttpProviderOptions {
  /** The receiver's endpoint (http: or https:). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` when set. Never appears in a reason. */
  readonly token?: string;
  /** Whole-request timeout (connect, request, response body). @default 10000 */
  readonly timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_REASON = 500;
/** Error bodies larger than this are not worth reading for a reason. */
const MAX_ERROR_BODY = 16_384;

/** The JSON body of the wire contract, in its documented key order. */
export function wireBody(email: OutboundEmail): string {
  return JSON.stringify({
    id: email.id,
    from: email.from,
    to: email.to,
    cc: email.cc,
    bcc: email.bcc,
    replyTo: email.replyTo,
    subject: email.subject,
    ...(email.html !== undefined ? { html: email.html } : {}),
    ...(email.text !== undefined ? { text: email.text } : {}),
    headers: email.headers,
    ...(email.files && email.files.length > 0
      ? {
          attachments: email.files.map((f) => ({
            filename: f.filename,
            contentType: f.contentType,
            disposition: f.disposition,
            ...(f.contentId !== undefined ? { contentId: f.contentId } : {}),
            content: Buffer.from(f.content).toString('base64'),
          })),
        }
      : {}),
  });
}

/**
 * Seconds to wait from a Retry-After header: delta-seconds ("30") or an HTTP date (seconds from
 * `nowMs`, 0 when it is past). Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? seconds : undefined;
  }
  // An HTTP date always has a day or month name; this keeps "-5" or "1.5" from parsing as a year.
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Removes the bearer token from text a receiver or the network stack produced. */
export function redact(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text;
}

const clip = (text: string): string => text.slice(0, MAX_REASON);

/** The `error` or `message` string of a JSON body, if there is one. */
export function errorDetail(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { error, message } = parsed as { error?: unknown; message?: unknown };
    if (typeof error === 'string' && error.trim() !== '') return error.trim();
    if (typeof message === 'string' && message.trim() !== '') return message.trim();
    // {"error": {"message": "..."}} is common too.
    if (typeof error === 'object' && error !== null) {
      const nested = (error as { message?: unknown }).message;
      if (typeof nested === 'string' && nested.trim() !== '') return nested.trim();
    }
  } catch {
    // Not JSON: no detail.
  }
  return undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  /** The response body (error responses only); undefined when it could not be read. */
  readonly body?: string | undefined;
  readonly retryAfter?: string | null | undefined;
}

/** Classifies a non-2xx answer (DESIGN §3). */
export function classifyHttpStatus(answer: HttpAnswer, nowMs: number, token?: string): SendOutcome {
  const { status, statusText } = answer;
  const label = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  const detail = errorDetail(answer.body);
  const reason = clip(redact(detail ? `${label}: ${detail}` : label, token));
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(answer.retryAfter, nowMs);
    return retryAfterSeconds === undefined
      ? { kind: 'throttled', reason }
      : { kind: 'throttled', reason, retryAfterSeconds };
  }
  if (status >= 500) return { kind: 'down', reason };
  if (status === 401 || status === 403) return { kind: 'broken', reason };
  if (status >= 400) return { kind: 'rejected', reason: clip(redact(detail ?? (statusText || label), token)) };
  // 1xx/3xx: redirects are not followed (a re-POST elsewhere is not ours to decide): a wrong URL.
  return { kind: 'broken', reason: `${reason} (unexpected answer; is the URL right?)` };
}

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Every `code` on an error, its cause chain and aggregated errors. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const e = error as ErrorLike;
  const codes = typeof e.code === 'string' ? [e.code] : [];
  if (Array.isArray(e.errors)) for (const inner of e.errors) codes.push(...errorCodes(inner, depth + 1));
  codes.push(...errorCodes(e.cause, depth + 1));
  return codes;
}

function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const e = error as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  const base = `${name}${message ? `: ${message}` : ''}`;
  const cause = e.cause as ErrorLike | undefined;
  if (typeof cause === 'object' && cause !== null) {
    const causeMessage = typeof cause.message === 'string' ? cause.message : '';
    const code = typeof cause.code === 'string' ? cause.code : '';
    const extra = causeMessage || code;
    if (extra) return `${base} (${extra}${code && !causeMessage.includes(code) ? ` ${code}` : ''})`;
  }
  return base;
}

/** Classifies a fetch that ended without a response (DESIGN §3). */
export function classifyFetchError(
  error: unknown,
  token?: string,
): Extract<SendOutcome, { kind: 'down' | 'ambiguous' }> {
  const reason = clip(redact(describeError(error), token));
  if (errorCodes(error).some((code) => NOT_SENT_CODES.has(code))) return { kind: 'down', reason };
  // A timeout or a reset after connecting: the request may have reached the receiver.
  return { kind: 'ambiguous', reason };
}

/** Reads at most `limit` characters of a body; undefined when it cannot be read. */
async function readSome(response: Response, limit: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.length >= limit) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
    return text + decoder.decode();
  } catch {
    return text === '' ? undefined : text;
  }
}

export class HttpProvider implements EmailProvider {
  readonly idempotent = true;
  private readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(
    readonly id: string,
    options: HttpProviderOptions,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`HTTP provider ${id}: the URL must be http: or https:`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new Error(`HTTP provider ${id}: timeoutMs must be a positive number`);
    }
    this.url = url.toString();
    this.token = options.token || undefined;
    this.timeoutMs = timeoutMs;
  }

  async send(email: OutboundEmail): Promise<SendOutcome> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Idempotency-Key': email.id,
    };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, {
        method: 'POST',
        headers,
        body: wireBody(email),
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      return classifyFetchError(error, this.token);
    }
    if (response.status >= 200 && response.status < 300) {
      // The receiver took the message: an unreadable body does not change that.
      const body = await readSome(response, MAX_ERROR_BODY);
      return { kind: 'accepted', providerMessageId: acceptedId(body) ?? `http:${email.id}` };
    }
    const wantBody = response.status !== 429 && !(response.status >= 500);
    const body = wantBody ? await readSome(response, MAX_ERROR_BODY) : undefined;
    if (!wantBody) await response.body?.cancel().catch(() => undefined);
    return classifyHttpStatus(
      {
        status: response.status,
        statusText: response.statusText,
        body,
        retryAfter: response.headers.get('retry-after'),
      },
      Date.now(),
      this.token,
    );
  }
}

/** The receiver's id from a 2xx JSON body `{"id": "..."}`. */
export function acceptedId(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const id = (parsed as { id?: unknown }).id;
    if (typeof id === 'string' && id !== '') return id.slice(0, 500);
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  } catch {
    // Not JSON: no id.
  }
  return undefined;
}
