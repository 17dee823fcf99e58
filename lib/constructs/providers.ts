/**
 * The provider chain as the stack deploys it: the PROVIDERS variable of the dispatch and ingest
 * functions, and what the dispatcher needs in IAM for the providers defined (their secrets, the
 * settings and rate-window items it keeps for them, extra SES configuration sets).
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DEFAULT_PROVIDERS } from '../../functions/core/defaults';
import { LIVE_SETTINGS_KEY, providerHealthKey, providerWindowKey } from '../../functions/core/keys';
import { ProvidersConfig } from '../../functions/core/providers';
import { secretOf } from '../context';

/** The variable through which dispatch and ingest learn the provider definitions and default chain (JSON). */
export const PROVIDERS_ENV = 'PROVIDERS';

/** SES alone: what a deployment without `providers` sends through. */
export const defaultProviders = (): ProvidersConfig => structuredClone(DEFAULT_PROVIDERS);

/**
 * Checks a provider configuration with the functions' own schema (the one that parses PROVIDERS).
 * @throws Error naming the construct and every field that is wrong
 */
export function checkedProviders(scope: IConstruct, config: ProvidersConfig): ProvidersConfig {
  const result = ProvidersConfig.safeParse(config);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `providers.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${scope.node.path}: invalid provider configuration: ${fields}`);
  }
  return result.data as ProvidersConfig;
}

/**
 * Room for PROVIDERS within Lambda's 4 KB of environment variables per function, leaving about 1 KB
 * for the function's other variables (table and queue names, URLs).
 */
export const MAX_PROVIDERS_JSON_BYTES = 3072;

/**
 * The value of the PROVIDERS variable.
 * @throws Error if it would not fit in the function's environment
 */
export function providersJson(scope: IConstruct, config: ProvidersConfig): string {
  const json = JSON.stringify(config);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_PROVIDERS_JSON_BYTES) {
    throw new Error(
      `${scope.node.path}: the provider configuration takes ${bytes} bytes as JSON, more than the ` +
        `${MAX_PROVIDERS_JSON_BYTES} that fit in a Lambda environment (4 KB for all variables); ` +
        'use fewer or shorter definitions (ids, URLs, secret names).',
    );
  }
  return json;
}

/** The Secrets Manager secrets (names or ARNs) the definitions name, each once, in definition order. */
export const providerSecrets = (config: ProvidersConfig): string[] => [
  ...new Set(config.providers.flatMap((def) => secretOf(def)?.name ?? [])),
];

/**
 * The IAM resource of a secret given by name or ARN. An ARN is used as it is; a name becomes the ARN
 * pattern of the stack's account and region, `-??????` standing for the six random characters Secrets
 * Manager appends to the name.
 */
export function secretResourceArn(scope: IConstruct, nameOrArn: string): string {
  if (nameOrArn.startsWith('arn:')) return nameOrArn;
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${nameOrArn}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** SES configuration sets the definitions name other than the stack's own (each once). */
export const providerConfigurationSets = (config: ProvidersConfig): string[] => [
  ...new Set(config.providers.flatMap((def) => (def.type === 'ses' && def.configurationSet) || [])),
];

/**
 * Partition keys of the settings table the dispatcher reads and writes: the live settings item and
 * one health item (circuit, outcome counts) per defined provider, built by the key builders the store
 * uses (functions/core/keys.ts). Provider ids have no IAM wildcard characters, so each is one item.
 */
export const dispatchSettingsKeys = (config: ProvidersConfig): string[] => [
  LIVE_SETTINGS_KEY,
  ...config.providers.map((def) => providerHealthKey(def.id)),
];

/**
 * Partition keys of the rate-windows table the dispatcher reads and writes: one item of window
 * counters per defined provider (functions/core/keys.ts, as functions/store/rate-windows.ts writes them).
 */
export const dispatchRateWindowKeys = (config: ProvidersConfig): string[] =>
  config.providers.map((def) => providerWindowKey(def.id));
