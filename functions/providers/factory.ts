/**
 * Builds the provider of each definition. Credentials are read when a provider is first used
 * (Secrets Manager in AWS, inline locally), so a provider whose secret cannot be read costs
 * nothing until it is tried, and then reports itself `broken` (or `down` when the read failed for
 * a passing reason) and the chain moves on. The Azure SDK is loaded then too, so a function
 * whose chain has no Azure provider never loads it, and one that has loads it on its first Azure send.
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { SendOutcome } from '../core/dispatch';
import type { AnyProviderDef } from '../core/providers';
import type { EmailProvider, OutboundEmail } from '../ports';
import type * as Azure from './azure';
import { HttpProvider } from './http';
import { SesProvider } from './ses';

export interface ProviderFactoryDeps {
  readonly ses: SESv2Client;
  /** The stack's configuration set, used when a SES definition names none. */
  readonly sesConfigurationSet?: string | undefined;
  /** Reads a secret's string value by name or ARN. */
  readonly secret?: (name: string) => Promise<string>;
  readonly fetch?: typeof fetch;
  /** Wraps each built provider (the local stack's SES simulator wraps SES). */
  readonly wrap?: (provider: EmailProvider, def: AnyProviderDef) => EmailProvider;
}

const BROKEN_SECRET = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure']);

/** A provider whose credentials are read on first use (and again after a failed read). */
class LazyProvider implements EmailProvider {
  private built?: Promise<EmailProvider>;

  constructor(
    readonly id: string,
    readonly idempotent: boolean,
    private readonly build: () => Promise<EmailProvider>,
  ) {}

  async send(email: OutboundEmail): Promise<SendOutcome> {
    let provider: EmailProvider;
    try {
      this.built ??= this.build();
      provider = await this.built;
    } catch (error) {
      this.built = undefined;
      const e = error as { name?: string; message?: string };
      const reason = `could not read the provider's credentials: ${e.name ?? 'Error'}${e.message ? `: ${e.message}` : ''}`;
      return BROKEN_SECRET.has(e.name ?? '') || e.name === 'ConfigurationError'
        ? { kind: 'broken', reason: reason.slice(0, 500) }
        : { kind: 'down', reason: reason.slice(0, 500) };
    }
    return provider.send(email);
  }
}

class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

async function secretOf(deps: ProviderFactoryDeps, name: string): Promise<string> {
  if (!deps.secret) throw new ConfigurationError(`no secret reader for "${name}"`);
  const value = (await deps.secret(name)).trim();
  if (value === '') throw new ConfigurationError(`the secret "${name}" is empty`);
  return value;
}

export function createProvider(def: AnyProviderDef, deps: ProviderFactoryDeps): EmailProvider {
  const wrap = (p: EmailProvider) => (deps.wrap ? deps.wrap(p, def) : p);
  switch (def.type) {
    case 'ses':
      return wrap(new SesProvider(deps.ses, def.configurationSet ?? deps.sesConfigurationSet, def.id));
    case 'azure':
      return wrap(
        new LazyProvider(def.id, true, async () => {
          const cs =
            'connectionString' in def ? def.connectionString : await secretOf(deps, def.connectionStringSecret);
          const { AzureEmailProvider, azureEmailClient }: typeof Azure = await import('./azure');
          return new AzureEmailProvider(
            def.id,
            azureEmailClient(cs, def.timeoutMs ? { timeoutMs: def.timeoutMs } : {}),
          );
        }),
      );
    case 'http':
      return wrap(
        new LazyProvider(def.id, true, async () => {
          const token =
            'token' in def
              ? def.token
              : 'tokenSecret' in def && def.tokenSecret
                ? await secretOf(deps, def.tokenSecret)
                : undefined;
          return new HttpProvider(
            def.id,
            { url: def.url, ...(token ? { token } : {}), ...(def.timeoutMs ? { timeoutMs: def.timeoutMs } : {}) },
            deps.fetch,
          );
        }),
      );
  }
}
