/** Bearer-key authentication: keys are stored as SHA-256 hashes; lookups are cached briefly. */
import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors';
import type { ApiKeyRecord, KeyStore, Scope } from '../ports';

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A revoked key stops working within this long (the cache lifetime of a positive look-up). */
export const KEY_CACHE_MS = 30_000;

/** Keys shorter or longer than this are never looked up (no key of ours is). */
const MIN_KEY_LENGTH = 8;
const MAX_KEY_LENGTH = 512;
const INVALID_KEY = 'The API key is not valid.';

export interface Caller {
  readonly keyName: string;
  /** The hash of the key's secret: a scheduled email's key is looked up by it again at send time. */
  readonly keyHash?: string;
  readonly scopes: readonly Scope[];
  readonly senderDomains: readonly string[];
  readonly ratePerSecond: number;
}

/** Whether a caller may send from `address` (its domain is one of the key's sender domains). */
export function maySendFrom(caller: Caller, address: string): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return caller.senderDomains.some((d) => d === '*' || d.toLowerCase() === domain);
}

export class Authenticator {
  private readonly cache = new Map<string, { key: ApiKeyRecord; until: number }>();

  constructor(
    private readonly keys: KeyStore,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Caller> {
    // Only a missing or malformed header gets the format hint; a well-formed one with a key that is
    // not ours (too short or too long to be one, unknown, revoked) is told the key is not valid.
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) {
      throw new DomainError('unauthorized', 'Send your API key as "Authorization: Bearer <key>".');
    }
    if (match[1].length < MIN_KEY_LENGTH || match[1].length > MAX_KEY_LENGTH) {
      throw new DomainError('unauthorized', INVALID_KEY);
    }
    const hash = hashKey(match[1]);
    const cached = this.cache.get(hash);
    const key = cached && cached.until > this.now() ? cached.key : await this.keys.findByHash(hash);
    if (!key || key.revoked) {
      this.cache.delete(hash);
      throw new DomainError('unauthorized', INVALID_KEY);
    }
    if (!cached || cached.until <= this.now()) this.cache.set(hash, { key, until: this.now() + KEY_CACHE_MS });
    return {
      keyName: key.name,
      keyHash: hash,
      scopes: key.scopes,
      senderDomains: key.senderDomains,
      ratePerSecond: key.ratePerSecond,
    };
  }
}
