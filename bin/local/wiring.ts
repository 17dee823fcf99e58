/**
 * The local composition: each function's environment built from the spec (lib/spec.ts) — the same
 * variables the CDK stack sets — parsed by the function's own config parser (functions/config.ts),
 * and its use case built with the same deps builders the Lambda entries use
 * (functions/handlers/wiring.ts), on the emulators' clients.
 *
 * What only the local stack knows, and how it is passed:
 * - the signing keys: SIGNING_KEYS_SECRET names `LOCAL_SIGNING_KEYS_SECRET`, but the keys come from
 *   a static keyring (no Secrets Manager locally);
 * - provider credentials given inline (LOCAL_CONFIG): PROVIDERS names them as secrets, as deployed
 *   definitions do (`local/<id>/<field>`), and the dispatcher's secret reader returns the inline value;
 * - SES providers are wrapped in the mailbox simulator, which publishes SES's events to the topic.
 */

import { createAudienceJobsHandler } from '../../functions/app/audience-jobs';
import { createConsoleHandler } from '../../functions/app/console';
import { createDispatchHandler } from '../../functions/app/dispatch';
import { createIngestHandler } from '../../functions/app/ingest';
import { createSesEventsHandler } from '../../functions/app/ses-events';
import { createTrackingHandler } from '../../functions/app/tracking';
import { createWebhookApiHandler } from '../../functions/app/webhook-api';
import { createWebhooksHandler } from '../../functions/app/webhooks';
import {
  audienceConfig,
  consoleConfig,
  dispatchConfig,
  ingestConfig,
  sesEventsConfig,
  trackingConfig,
  webhookApiConfig,
  webhooksConfig,
} from '../../functions/config';
import { DEFAULTS } from '../../functions/core/defaults';
import type { ChainConfig, ProviderDef, ProvidersConfig } from '../../functions/core/providers';
import type { Keyring } from '../../functions/core/signing';
import { audienceDeps } from '../../functions/handlers/audience-wiring';
import { consoleDeps } from '../../functions/handlers/console-wiring';
import { ingestDeps } from '../../functions/handlers/ingest-wiring';
import { webhookApiDeps, webhooksDeps } from '../../functions/handlers/webhook-wiring';
import { type ChainOptions, dispatchDeps, sesEventsDeps, trackingDeps } from '../../functions/handlers/wiring';
import type { ContentStore, Scheduler } from '../../functions/ports';
import { StaticSigningKeys } from '../../functions/store/secrets';
import { buildConsoleAssets } from '../../lib/console-assets';
import {
  type BoundResources,
  type DeploymentParams,
  FUNCTION_NAMES,
  type FunctionName,
  functionEnvironment,
  type GuardParams,
  paramsFor,
  type WebhookParams,
} from '../../lib/spec';
import { SimulatedSesProvider } from '../ses-simulator';
import type { EmulatorClients } from './emulators';
import type { HttpHandler, SqsHandler } from './lambda';
import type { LocalResources } from './provisioning';

/** The value of SIGNING_KEYS_SECRET locally; the keys themselves are the run's static keyring. */
export const LOCAL_SIGNING_KEYS_SECRET = 'local';

/**
 * Definitions as deployed (credentials by secret name only), and the values of the secrets they
 * now name: each inline credential of a local definition becomes the secret `local/<id>/<field>`.
 */
export function deployableProviders(config: ChainConfig): {
  readonly providers: ProvidersConfig;
  readonly secrets: ReadonlyMap<string, string>;
} {
  const secrets = new Map<string, string>();
  const providers = config.providers.map((def): ProviderDef => {
    if ('token' in def) {
      const { token, ...rest } = def;
      if (token === undefined) return rest;
      secrets.set(`local/${def.id}/token`, token);
      return { ...rest, tokenSecret: `local/${def.id}/token` };
    }
    if ('connectionString' in def) {
      const { connectionString, ...rest } = def;
      secrets.set(`local/${def.id}/connectionString`, connectionString);
      return { ...rest, connectionStringSecret: `local/${def.id}/connectionString` };
    }
    return def;
  });
  return { providers: { providers, chain: [...config.chain] }, secrets };
}

/** What cdk.json's defaults give a deployment, with the local API's URL for the links in emails. */
export function localDeployment(
  publicBaseUrl: string,
  providers: ProvidersConfig,
  guard: Partial<GuardParams> = {},
  webhooks: WebhookParams = {},
): DeploymentParams {
  return {
    retentionDays: DEFAULTS.retentionDays,
    providersJson: JSON.stringify(providers),
    // No configuration set locally: the SES emulator has none, and the simulator publishes the events.
    sesConfigurationSet: undefined,
    publicBaseUrl,
    trackOpens: DEFAULTS.tracking.opens,
    trackClicks: DEFAULTS.tracking.clicks,
    softBounce: DEFAULTS.softBounce,
    bulkReservePercent: DEFAULTS.capacity.bulkReservePercent,
    guard: { ...DEFAULTS.guard, ...guard },
    // Receivers on this machine (http, loopback) are allowed locally, never in AWS.
    webhooks: { allowPrivateUrls: true, ...webhooks },
  };
}

/** The names of the local tables, queues and secrets, as the functions' environments carry them. */
export function boundResources(resources: LocalResources, scheduling = false): BoundResources {
  return {
    ...(scheduling
      ? {
          scheduling: {
            group: 'mailroute-local',
            roleArn: 'arn:aws:iam::000000000000:role/mailroute-local-scheduler',
            deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:mailroute-local-scheduler-dlq',
            queueArns: {
              transactional: resources.queues.send.arn,
              critical: resources.queues.sendCritical.arn,
              bulk: resources.queues.sendBulk.arn,
            },
            jobsQueueArn: resources.queues.audienceJobs.arn,
          },
        }
      : {}),
    tables: resources.tables,
    queues: Object.fromEntries(
      Object.entries(resources.queues).map(([name, queue]) => [name, queue.url]),
    ) as BoundResources['queues'],
    deadLetterQueues: Object.fromEntries(
      Object.entries(resources.queues).map(([name, queue]) => [name, queue.dlqUrl]),
    ) as BoundResources['deadLetterQueues'],
    secrets: { signingKeys: LOCAL_SIGNING_KEYS_SECRET },
    buckets: resources.buckets,
  };
}

export interface LocalWiringOptions {
  readonly resources: LocalResources;
  readonly clients: EmulatorClients;
  /** Base URL of the links written into emails: the local API. */
  readonly apiUrl: string;
  readonly keyring: Keyring;
  /** Provider definitions and chain; credentials may be inline. */
  readonly providers: ChainConfig;
  /** How long dispatchers cache the live provider settings. */
  readonly settingsCacheMs?: number;
  /** Circuit timings over the defaults. */
  readonly circuit?: ChainOptions['circuit'];
  /** The adaptive throttle's policy over the defaults (dispatchers and the settings API alike). */
  readonly adaptiveThrottle?: ChainOptions['adaptiveThrottle'];
  /** The reputation guard's settings over cdk.json's defaults (e.g. a small minimum volume in tests). */
  readonly guard?: Partial<GuardParams>;
  /** The draw that splits template canaries. @default Math.random */
  readonly templateRandom?: () => number;
  /** Scheduled sends: the local scheduler and content store. @default none (scheduled sends off) */
  readonly scheduling?: { readonly scheduler: Scheduler; readonly content: ContentStore };
  /** The clock of the API and the dispatcher (a test moves it ahead). @default Date.now */
  readonly now?: () => number;
  /** Webhook delivery settings over the local defaults (e.g. a retry schedule of seconds in tests). */
  readonly webhooks?: WebhookParams;
}

export interface LocalFunctions {
  /** The functions behind the API's routes. */
  readonly http: {
    readonly ingest: HttpHandler;
    readonly tracking: HttpHandler;
    readonly webhookApi: HttpHandler;
    readonly console: HttpHandler;
  };
  /** The functions the event sources invoke. */
  readonly sqs: {
    readonly dispatch: SqsHandler;
    readonly sesEvents: SqsHandler;
    readonly webhooks: SqsHandler;
    readonly audience: SqsHandler;
  };
  /** Each function's environment, as parsed (for a look, and for tests). */
  readonly environments: { readonly [K in FunctionName]: Record<string, string> };
  /** The SES simulators (shutdown waits for their publishes). */
  readonly simulators: readonly SimulatedSesProvider[];
}

/** Builds every function of the spec, each from its spec environment through its config parser. */
export function wireFunctions(options: LocalWiringOptions): LocalFunctions {
  const { providers, secrets } = deployableProviders(options.providers);
  const deployment = localDeployment(options.apiUrl, providers, options.guard, options.webhooks);
  const bound = boundResources(options.resources, options.scheduling !== undefined);
  const environmentOf = (name: FunctionName) => functionEnvironment(name, paramsFor(name, deployment), bound);
  const environments = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, environmentOf(name)])) as {
    [K in FunctionName]: Record<string, string>;
  };

  const signingKeys = new StaticSigningKeys(options.keyring);
  const { clients } = options;
  const simulators: SimulatedSesProvider[] = [];
  const dispatch = createDispatchHandler(
    dispatchDeps(
      dispatchConfig(environments.dispatch),
      { ...clients, signingKeys },
      {
        secret: async (name) => {
          const value = secrets.get(name);
          if (value === undefined)
            throw Object.assign(new Error(`no local secret "${name}"`), { name: 'ResourceNotFoundException' });
          return value;
        },
        // SES providers send through the emulator, then publish the simulator's events as SES would.
        wrap: (provider, def) => {
          if (def.type !== 'ses') return provider;
          const simulator = new SimulatedSesProvider(provider, clients.sns, options.resources.sesEventsTopicArn);
          simulators.push(simulator);
          return simulator;
        },
        ...(options.settingsCacheMs !== undefined ? { cacheMs: options.settingsCacheMs } : {}),
        ...(options.circuit ? { circuit: options.circuit } : {}),
        ...(options.adaptiveThrottle ? { adaptiveThrottle: options.adaptiveThrottle } : {}),
        ...(options.scheduling ? { content: options.scheduling.content } : {}),
        ...(options.now ? { now: options.now } : {}),
      },
    ),
  );
  const now = options.now;
  return {
    http: {
      ingest: createIngestHandler({
        ...ingestDeps(
          ingestConfig(environments.ingest),
          clients,
          { ...DEFAULTS.adaptiveThrottle, ...options.adaptiveThrottle },
          options.scheduling,
        ),
        ...(options.templateRandom ? { random: options.templateRandom } : {}),
        ...(now ? { now: () => new Date(now()) } : {}),
      }) as unknown as HttpHandler,
      tracking: createTrackingHandler(
        trackingDeps(trackingConfig(environments.tracking), { ...clients, signingKeys }),
      ) as unknown as HttpHandler,
      webhookApi: createWebhookApiHandler(
        webhookApiDeps(webhookApiConfig(environments.webhookApi), { ...clients, signingKeys }),
      ) as unknown as HttpHandler,
      // The console's page and script, built from console/ as the stack builds them at synth time.
      console: createConsoleHandler(
        consoleDeps(consoleConfig(environments.console), clients, buildConsoleAssets()),
      ) as unknown as HttpHandler,
    },
    sqs: {
      dispatch: dispatch as unknown as SqsHandler,
      sesEvents: createSesEventsHandler(
        sesEventsDeps(sesEventsConfig(environments.sesEvents), clients),
      ) as unknown as SqsHandler,
      // A new endpoint gets events at once locally (no endpoint list cached).
      webhooks: createWebhooksHandler(
        webhooksDeps(webhooksConfig(environments.webhooks), { ...clients, signingKeys }, { cacheMs: 0 }),
      ) as unknown as SqsHandler,
      audience: createAudienceJobsHandler(
        audienceDeps(audienceConfig(environments.audience), clients),
      ) as unknown as SqsHandler,
    },
    environments,
    simulators,
  };
}
