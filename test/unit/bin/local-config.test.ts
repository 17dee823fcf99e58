/**
 * LOCAL_CONFIG: the example the repository ships (providers.local.json) is a valid local provider
 * configuration, and cdk.json's secret-name form is refused with the inline field to use instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployableProviders } from '../../../bin/local/wiring';
import { LocalProvidersConfig } from '../../../functions/core/providers';

const example: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '../../../providers.local.json'), 'utf8'));

const issuesOf = (config: unknown) => {
  const parsed = LocalProvidersConfig.safeParse(config);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('providers.local.json', () => {
  it('is a valid LOCAL_CONFIG with the relay and SES the README examples name, relay first', () => {
    const config = LocalProvidersConfig.parse(example);
    expect(config.chain).toEqual(['relay', 'ses']);
    expect(config.providers.map((p) => [p.id, p.type])).toEqual([
      ['relay', 'http'],
      ['ses', 'ses'],
    ]);
  });

  it('has its relay token inline, which the local stack serves as the secret the dispatcher reads', () => {
    const { providers, secrets } = deployableProviders(LocalProvidersConfig.parse(example));
    expect(providers.providers[0]).toMatchObject({ id: 'relay', tokenSecret: 'local/relay/token' });
    expect(secrets.get('local/relay/token')).toBe('dev-token');
  });
});

describe('LOCAL_CONFIG with cdk.json secret names', () => {
  it('refuses tokenSecret, saying to give the token as "token"', () => {
    const issues = issuesOf({
      providers: [
        { id: 'relay', type: 'http', url: 'https://relay.example.com/send', tokenSecret: 'mailroute/relay-token' },
      ],
      chain: ['relay'],
    });
    expect(issues).toEqual([
      'providers.0.tokenSecret: "tokenSecret" names a Secrets Manager secret, which the local stack does not have: give the value itself as "token"',
    ]);
  });

  it('refuses connectionStringSecret, saying to give it as "connectionString"', () => {
    const issues = issuesOf({
      providers: [{ id: 'azure', type: 'azure', connectionStringSecret: 'mailroute/azure-email' }],
      chain: ['azure'],
    });
    expect(issues).toContain(
      'providers.0.connectionStringSecret: "connectionStringSecret" names a Secrets Manager secret, which the local stack does not have: give the value itself as "connectionString"',
    );
  });
});
