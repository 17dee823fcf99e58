/**
 * Webhook signing secrets: made (`whsec_` + 24 random bytes, base64, as Standard Webhooks libraries
 * take them), sealed before they are stored and opened when a delivery is signed. Sealing is AES-256-GCM
 * with a key derived (HKDF-SHA256) from the deployment's signing keyring, so a copy of the table alone
 * reveals no secret. A sealed secret names the keyring key it was sealed with: keep a retired key in
 * the keyring until every endpoint's secret has been rotated (POST /v1/webhooks/{id}/rotate-secret).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Keyring } from './signing';

export const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret. */
export const newWebhookSecret = (random: (n: number) => Buffer = randomBytes): string =>
  `${SECRET_PREFIX}${random(24).toString('base64')}`;

const INFO = 'mailroute/webhook-secret/v1';
const derived = new Map<string, Buffer>();
function keyOf(ring: Keyring, id: string): Buffer {
  const material = ring.keys[id];
  if (material === undefined) throw new Error(`the keyring has no key "${id}" to open this webhook secret`);
  const cacheKey = `${id}\u0000${material}`;
  let key = derived.get(cacheKey);
  if (!key) {
    if (derived.size > 32) derived.clear();
    key = Buffer.from(hkdfSync('sha256', Buffer.from(material, 'utf8'), Buffer.alloc(0), INFO, 32));
    derived.set(cacheKey, key);
  }
  return key;
}

/** `<keyId>.<iv>.<ciphertext>.<tag>` (base64url), sealed with the keyring's current key. */
export function sealSecret(secret: string, ring: Keyring, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(ring, ring.current), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [ring.current, iv, body, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** Opens a sealed secret; throws when it was tampered with or sealed for another endpoint (`aad`). */
export function openSecret(sealed: string, ring: Keyring, aad: string): string {
  const [id = '', iv = '', body = '', tag = ''] = sealed.split('.');
  const decipher = createDecipheriv('aes-256-gcm', keyOf(ring, id), Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
