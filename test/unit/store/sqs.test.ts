import { describe, expect, it } from 'vitest';
import { packBatches, SQS_MAX_BYTES, toQueueBody } from '../../../functions/store/sqs';

describe('toQueueBody', () => {
  it('escapes what SQS refuses and round-trips to the same value', () => {
    const value = { subject: 'Sale 😀 \uFFFE\uFFFF \u{10000} end', text: 'ünïcödé 日本' };
    const body = toQueueBody(value);
    expect(body).toMatch(/^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]*$/);
    expect(JSON.parse(body)).toEqual(value);
    expect(body).toContain('ünïcödé 日本'); // characters SQS accepts stay as they are
  });
});

describe('packBatches', () => {
  it('packs at most 10 entries and 1 MiB per SendMessageBatch', () => {
    const small = Array.from({ length: 25 }, (_, i) => ({ id: `s${i}`, body: 'x' }));
    expect(packBatches(small).map((b) => b.length)).toEqual([10, 10, 5]);
    const big = Array.from({ length: 3 }, (_, i) => ({ id: `b${i}`, body: 'x'.repeat(SQS_MAX_BYTES / 2) }));
    expect(packBatches(big).map((b) => b.length)).toEqual([2, 1]);
  });
});
