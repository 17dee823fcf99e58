/** Link-signing keys from Secrets Manager, read at first use and cached (keys rotate by key id). */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Keyring, parseKeyring } from '../core/signing';
import type { SigningKeys } from '../ports';

/** How long a read keyring is kept: a rotated key reaches every function within this time. */
export const KEYRING_CACHE_MS = 5 * 60_000;

export class SecretsManagerSigningKeys implements SigningKeys {
  private cached?: { ring: Keyring; until: number };

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly now: () => number = Date.now,
  ) {}

  async keyring(): Promise<Keyring> {
    if (this.cached && this.cached.until > this.now()) return this.cached.ring;
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (!out.SecretString) throw new Error('the signing keys secret has no string value');
    const ring = parseKeyring(out.SecretString);
    this.cached = { ring, until: this.now() + KEYRING_CACHE_MS };
    return ring;
  }
}

/** A fixed keyring (local stack, tests). */
export class StaticSigningKeys implements SigningKeys {
  constructor(private readonly ring: Keyring) {}
  async keyring(): Promise<Keyring> {
    return this.ring;
  }
}
