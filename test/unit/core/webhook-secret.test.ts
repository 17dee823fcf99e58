import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, openSecret, sealSecret } from '../../../functions/core/webhook-secret';

const ring = {
  current: 'k2',
  keys: { k1: 'older-signing-key-0123456789abcdef0123', k2: 'newer-signing-key-0123456789abcdef0123' },
};

describe('webhook secrets', () => {
  it('are whsec_ secrets that Standard Webhooks libraries take', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(() => new Webhook(secret)).not.toThrow();
  });

  it('are stored sealed: the sealed form does not contain the secret, and opens only for its endpoint', () => {
    const secret = newWebhookSecret();
    const sealed = sealSecret(secret, ring, 'ep_1');
    expect(sealed).not.toContain(secret.slice(6));
    expect(sealed.startsWith('k2.')).toBe(true);
    expect(openSecret(sealed, ring, 'ep_1')).toBe(secret);
    expect(() => openSecret(sealed, ring, 'ep_2')).toThrow();
    const tampered = `${sealed.slice(0, -3)}AAA`;
    expect(() => openSecret(tampered, ring, 'ep_1')).toThrow();
  });

  it('open after the keyring rotates, as long as the old key is kept', () => {
    const sealed = sealSecret('whsec_abc', { current: 'k1', keys: ring.keys }, 'ep_1');
    expect(openSecret(sealed, ring, 'ep_1')).toBe('whsec_abc');
    expect(() => openSecret(sealed, { current: 'k2', keys: { k2: ring.keys.k2 } }, 'ep_1')).toThrow(/no key "k1"/);
  });
});
