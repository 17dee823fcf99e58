import { describe, expect, it } from 'vitest';
import { parseKeyring, sign, verify } from '../../../functions/core/signing';

const ring = {
  current: 'k2',
  keys: { k1: 'old-key-0123456789abcdef0123456789ab', k2: 'new-key-0123456789abcdef0123456789ab' },
};
const value = { a: 'user@example.org', c: 'newsletter', m: 'msg-1' };

describe('signed tokens', () => {
  it('round-trips a value', () => {
    expect(verify(sign(value, ring), ring)).toEqual(value);
  });

  it('rejects every single-character change', () => {
    const token = sign(value, ring);
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === 'A' ? 'B' : 'A';
      expect(verify(`${token.slice(0, i)}${c}${token.slice(i + 1)}`, ring)).toBeUndefined();
    }
  });

  it('rejects truncated, unsigned and foreign-key tokens', () => {
    const token = sign(value, ring);
    expect(verify(token.slice(0, -5), ring)).toBeUndefined();
    expect(verify(token.split('.').slice(0, 2).join('.'), ring)).toBeUndefined();
    expect(
      verify(sign(value, { current: 'k9', keys: { k9: 'other-key-0123456789abcdef012345678' } }), ring),
    ).toBeUndefined();
    expect(verify('', ring)).toBeUndefined();
  });

  it('verifies links signed with an older key after rotation', () => {
    const old = sign(value, { ...ring, current: 'k1' });
    expect(verify(old, ring)).toEqual(value);
  });

  it('cannot be re-pointed at another address by editing the payload', () => {
    const [kid, , mac] = sign(value, ring).split('.');
    const forged = Buffer.from(JSON.stringify({ ...value, a: 'victim@example.org' })).toString('base64url');
    expect(verify(`${kid}.${forged}.${mac}`, ring)).toBeUndefined();
  });
});

describe('parseKeyring', () => {
  it('reads the secret form and refuses a missing or short current key', () => {
    expect(parseKeyring(JSON.stringify({ current: 'k1', k1: 'x'.repeat(48) }))).toEqual({
      current: 'k1',
      keys: { k1: 'x'.repeat(48) },
    });
    expect(() => parseKeyring(JSON.stringify({ current: 'k2', k1: 'x'.repeat(48) }))).toThrow(/current/);
    expect(() => parseKeyring(JSON.stringify({ current: 'k1', k1: 'short' }))).toThrow(/current/);
  });
});
