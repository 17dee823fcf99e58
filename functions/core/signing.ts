/**
 * Signed tokens for links written into emails (one-click unsubscribe; tracking later). A token is
 * `<keyId>.<payload>.<mac>`, base64url, with an HMAC-SHA256 over key id and payload. Keys rotate by
 * id: new links use the current key, and every key still in the keyring verifies old links.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

export interface Keyring {
  /** The key id new tokens are signed with. */
  readonly current: string;
  /** Every key that verifies, by id (the current one included). */
  readonly keys: Readonly<Record<string, string>>;
}

/** Reads the secret's JSON form: {"current":"k1","k1":"…","k0":"…"}. */
export function parseKeyring(secret: string): Keyring {
  const raw = JSON.parse(secret) as Record<string, unknown>;
  const current = raw.current;
  const keys: Record<string, string> = {};
  for (const [id, value] of Object.entries(raw)) {
    if (id !== 'current' && typeof value === 'string' && value.length >= 32) keys[id] = value;
  }
  if (typeof current !== 'string' || !keys[current]) {
    throw new Error('signing keys secret: "current" must name a key of at least 32 characters');
  }
  return { current, keys };
}

const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
/** Keys imported once: an HMAC with a KeyObject skips importing the key on every token. */
const imported = new Map<string, KeyObject>();
function keyObject(key: string): KeyObject {
  let k = imported.get(key);
  if (!k) {
    if (imported.size > 32) imported.clear(); // rotated keys do not pile up
    k = createSecretKey(Buffer.from(key, 'utf8'));
    imported.set(key, k);
  }
  return k;
}
const mac = (key: string, keyId: string, payload: string) =>
  createHmac('sha256', keyObject(key)).update(`${keyId}.${payload}`).digest('base64url');

export function sign(value: unknown, ring: Keyring): string {
  const key = ring.keys[ring.current];
  if (!key || !KEY_ID.test(ring.current)) throw new Error('the current signing key is missing');
  const payload = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  return `${ring.current}.${payload}.${mac(key, ring.current, payload)}`;
}

/** The signed value, or undefined for anything tampered, truncated, unsigned or signed by an unknown key. */
export function verify(token: string, ring: Keyring): unknown {
  if (token.length > 8192) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [keyId = '', payload = '', given = ''] = parts;
  const key = KEY_ID.test(keyId) ? ring.keys[keyId] : undefined;
  if (!key || !/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
  const expected = Buffer.from(mac(key, keyId, payload));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
