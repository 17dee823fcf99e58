import { describe, expect, it } from 'vitest';
import { CONTEXT_KEY, parseContext } from '../../lib/context';
import { cdkJsonContext } from './stack-fixture';

const valid = { senderIdentities: ['example.com'], retentionDays: 30, dispatch: { maxConcurrency: 10 } };

describe('parseContext', () => {
  it("parses cdk.json's mailroute object", () => {
    expect(parseContext(cdkJsonContext()[CONTEXT_KEY])).toEqual(valid);
  });

  it('fills in defaults for retentionDays and dispatch.maxConcurrency', () => {
    expect(parseContext({ senderIdentities: ['noreply@example.com'] })).toEqual({
      senderIdentities: ['noreply@example.com'],
      retentionDays: 30,
      dispatch: { maxConcurrency: 10 },
    });
  });

  it('accepts the object as a JSON string (cdk -c mailroute=...)', () => {
    expect(parseContext(JSON.stringify(valid))).toEqual(valid);
  });

  it.each([0, 3651, 1.5, '30'])('rejects retentionDays %j, naming the field', (retentionDays) => {
    expect(() => parseContext({ ...valid, retentionDays })).toThrow(
      /cdk\.json context "mailroute\.retentionDays": expected/,
    );
  });

  it('rejects an empty senderIdentities, naming the field', () => {
    expect(() => parseContext({ ...valid, senderIdentities: [] })).toThrow(
      /cdk\.json context "mailroute\.senderIdentities": expected at least one/,
    );
  });

  it('rejects a missing senderIdentities, naming the field', () => {
    expect(() => parseContext({ retentionDays: 30 })).toThrow(/"mailroute\.senderIdentities": expected/);
  });

  it('rejects a sender identity that is neither a domain nor an email address, naming its index', () => {
    expect(() => parseContext({ ...valid, senderIdentities: ['example.com', 'not a domain'] })).toThrow(
      /"mailroute\.senderIdentities\[1\]": expected a domain/,
    );
  });

  it('rejects an unknown key, naming it', () => {
    expect(() => parseContext({ ...valid, retentionDay: 7 })).toThrow(
      /cdk\.json context "mailroute\.retentionDay": unknown key/,
    );
  });

  it('rejects an unknown nested key, naming it', () => {
    expect(() => parseContext({ ...valid, dispatch: { maxConcurency: 5 } })).toThrow(
      /"mailroute\.dispatch\.maxConcurency": unknown key/,
    );
  });

  it.each([1, 1001])('rejects dispatch.maxConcurrency %j, naming the field', (maxConcurrency) => {
    expect(() => parseContext({ ...valid, dispatch: { maxConcurrency } })).toThrow(
      /"mailroute\.dispatch\.maxConcurrency": expected/,
    );
  });

  it('reports every bad field at once', () => {
    expect(() => parseContext({ senderIdentities: [], retentionDays: -1 })).toThrow(
      /"mailroute\.senderIdentities"[\s\S]*"mailroute\.retentionDays"/,
    );
  });

  it('rejects a missing mailroute object', () => {
    expect(() => parseContext(undefined)).toThrow(/cdk\.json context "mailroute": expected an object/);
  });
});
