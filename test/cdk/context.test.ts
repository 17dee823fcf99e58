import { describe, expect, it } from 'vitest';
import { CONTEXT_KEY, parseContext } from '../../lib/context';
import { cdkJsonContext } from './stack-fixture';

const valid = {
  senderIdentities: ['example.com'],
  retentionDays: 30,
  dispatch: { maxConcurrency: 10 },
  softBounce: { limit: 3, windowHours: 72 },
};

describe('parseContext', () => {
  it("parses cdk.json's mailroute object", () => {
    expect(parseContext(cdkJsonContext()[CONTEXT_KEY])).toEqual(valid);
  });

  it('fills in defaults for retentionDays, dispatch.maxConcurrency and softBounce, and leaves publicBaseUrl unset', () => {
    expect(parseContext({ senderIdentities: ['noreply@example.com'] })).toEqual({
      senderIdentities: ['noreply@example.com'],
      retentionDays: 30,
      dispatch: { maxConcurrency: 10 },
      softBounce: { limit: 3, windowHours: 72 },
    });
  });

  it('fills in the default of a softBounce field left out', () => {
    expect(parseContext({ ...valid, softBounce: { limit: 5 } }).softBounce).toEqual({ limit: 5, windowHours: 72 });
    expect(parseContext({ ...valid, softBounce: { windowHours: 24 } }).softBounce).toEqual({
      limit: 3,
      windowHours: 24,
    });
  });

  it('accepts softBounce at the ends of its ranges', () => {
    expect(parseContext({ ...valid, softBounce: { limit: 1, windowHours: 1 } }).softBounce).toEqual({
      limit: 1,
      windowHours: 1,
    });
    expect(parseContext({ ...valid, softBounce: { limit: 100, windowHours: 720 } }).softBounce).toEqual({
      limit: 100,
      windowHours: 720,
    });
  });

  it.each([0, 101, 2.5, '3', null])('rejects softBounce.limit %j, naming the field', (limit) => {
    expect(() => parseContext({ ...valid, softBounce: { limit } })).toThrow(
      /cdk\.json context "mailroute\.softBounce\.limit": expected a whole number from 1 to 100/,
    );
  });

  it.each([0, 721, 1.5, '72'])('rejects softBounce.windowHours %j, naming the field', (windowHours) => {
    expect(() => parseContext({ ...valid, softBounce: { windowHours } })).toThrow(
      /cdk\.json context "mailroute\.softBounce\.windowHours": expected a whole number of hours from 1 to 720/,
    );
  });

  it('rejects a softBounce that is not an object, naming the field', () => {
    expect(() => parseContext({ ...valid, softBounce: 3 })).toThrow(/cdk\.json context "mailroute\.softBounce": /);
  });

  it('rejects an unknown softBounce key, naming it', () => {
    expect(() => parseContext({ ...valid, softBounce: { limits: 3 } })).toThrow(
      /"mailroute\.softBounce\.limits": unknown key \(allowed here: limit, windowHours\)/,
    );
  });

  it.each(['https://mail.example.com', 'https://mail.example.com/mailroute', 'https://api.example.com:8443'])(
    'accepts publicBaseUrl %j',
    (publicBaseUrl) => {
      expect(parseContext({ ...valid, publicBaseUrl }).publicBaseUrl).toBe(publicBaseUrl);
    },
  );

  it.each([
    ['http://mail.example.com', /expected an https URL/],
    ['mail.example.com', /expected an https URL/],
    ['https:mail.example.com', /expected an https URL/],
    ['https://mail.example.com/', /expected no trailing slash/],
    ['https://mail.example.com/u/', /expected no trailing slash/],
    ['https://mail.example.com?x=1', /expected no query or fragment/],
    ['https://user:secret@mail.example.com', /expected no user name or password/],
    [42, /expected an https URL/],
  ])('rejects publicBaseUrl %j, naming the field', (publicBaseUrl, reason) => {
    let message = '';
    try {
      parseContext({ ...valid, publicBaseUrl });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).toMatch(/cdk\.json context "mailroute\.publicBaseUrl": /);
    expect(message).toMatch(reason);
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
