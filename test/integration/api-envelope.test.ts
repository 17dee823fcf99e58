/**
 * The one error envelope on the local stack: a request no route matches reaches the ingest function
 * through the stand-in's catch-all (as API Gateway's `$default` route sends it in AWS), which answers
 * 404 or 405 with `Allow` in `{"error":{"code","message"}}`; what API Gateway answers by itself (a body
 * over 10 MB) is answered exactly as the README's Errors section says.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ANSWERS, MAX_REQUEST_BYTES } from '../../bin/local/api-gateway';
import type { LocalStack } from '../../bin/local-stack';
import { useLocalStack } from '../support/local';

let stack: LocalStack;
useLocalStack(
  (s) => {
    stack = s;
  },
  { pollers: 0 },
);

async function call(method: string, path: string, opts: { body?: string; key?: boolean } = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      ...(opts.key === false ? {} : { authorization: `Bearer ${stack.apiKey}` }),
      'content-type': 'application/json',
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Sends a body of `bytes` bytes and reads the answer even if the server closes the connection early. */
function upload(path: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, stack.apiUrl);
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.apiKey}`,
          'content-type': 'application/json',
          'content-length': String(bytes),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    // The server may close the connection before the whole body is written; the answer still counts.
    req.on('error', () => undefined);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let left = bytes;
    const write = () => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!req.write(part)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('the error envelope on the local stack', () => {
  it('GET /v1/nope → 404 not_found', async () => {
    const res = await call('GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No route GET /v1/nope.' } });
  });

  it('DELETE /v1/emails/{id} → 405 method_not_allowed with Allow: GET', async () => {
    const res = await call('DELETE', '/v1/emails/5b0c8f0e-0000-4000-8000-000000000000');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PATCH');
    expect(res.body).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  it('answers unknown routes the same without a key (the catch-all checks none)', async () => {
    expect((await call('GET', '/v1/nope', { key: false })).status).toBe(404);
    const res = await call('PATCH', '/v1/settings/providers', { key: false, body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, PUT');
  });

  it('keeps the route answers: a known route without a key is 401 in the envelope', async () => {
    const res = await call('GET', '/v1/emails/abc', { key: false });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers a body over 10 MB as API Gateway does: 413 {"message":"Request Entity Too Large"}', async () => {
    expect(GATEWAY_ANSWERS.tooLarge).toEqual({ status: 413, body: { message: 'Request Entity Too Large' } });
    const res = await upload('/v1/emails', MAX_REQUEST_BYTES + 1);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ message: 'Request Entity Too Large' });
  });

  it('takes a body of exactly 10 MB to the function, which applies its own limit in the envelope', async () => {
    const res = await upload('/v1/emails', MAX_REQUEST_BYTES);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});
