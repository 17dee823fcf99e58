/**
 * The `mailroute` object of cdk.json's context: what an operator configures before deploying.
 * Parsed once by bin/app.ts; a bad value stops `cdk synth` with a message naming the field.
 */
import { z } from 'zod';
import { DEFAULT_PROVIDERS, DEFAULTS } from '../functions/core/defaults';
import { ProviderDef, ProvidersConfig, RateLimit, WarmUpDef } from '../functions/core/providers';
import { MAX_WINDOW_HOURS } from '../functions/core/reputation';
import { WEBHOOK_DEFAULTS } from '../functions/core/webhook-retry';
import { QUEUES } from './resources';

/** The context key under which cdk.json holds the configuration. */
export const CONTEXT_KEY = 'mailroute';

/** A DNS domain such as example.com or mail.example.co.uk (an SES domain identity). */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const EMAIL = z.email();

/** An ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid> (any partition). */
const CERTIFICATE_ARN =
  /^arn:aws(?:-[a-z]+)*:acm:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:certificate\/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/;

/** Whether `value` is a DNS name such as mail.example.com (no wildcard, no trailing dot). */
export const isDnsName = (value: string): boolean => DOMAIN.test(value);

/** Whether `value` is an email address such as oncall@example.com. */
export const isEmailAddress = (value: string): boolean => EMAIL.safeParse(value).success;

/** Whether `value` is the ARN of an ACM certificate. */
export const isCertificateArn = (value: string): boolean => CERTIFICATE_ARN.test(value);

const isSesIdentity = (value: string): boolean => DOMAIN.test(value) || EMAIL.safeParse(value).success;

const SenderIdentity = z
  .string({ error: 'expected a string' })
  .refine(isSesIdentity, { error: 'expected a domain (example.com) or an email address (noreply@example.com)' });

/** A whole number from `min` to `max`; the message says which, and in what unit (`of`). */
const wholeNumber = (min: number, max: number, of?: string) => {
  const error = `expected a whole number${of ? ` of ${of}` : ''} from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

/** When repeated transient (soft) bounces of one address turn into a suppression. */
export interface SoftBounceSettings {
  /** Soft bounces of one address within the window that suppress it. */
  readonly limit: number;
  /** The window, in hours. */
  readonly windowHours: number;
}

/** The soft-bounce defaults (functions/core/defaults.ts, which the ses-events function's parser uses too). */
export const SOFT_BOUNCE_DEFAULTS: SoftBounceSettings = DEFAULTS.softBounce;

/** The values `softBounce` accepts (the ses-events construct checks the same ranges). */
export const SOFT_BOUNCE_RANGES = {
  limit: { min: 1, max: 100 },
  windowHours: { min: 1, max: 720 },
} as const satisfies Record<keyof SoftBounceSettings, { min: number; max: number }>;

/** A custom domain in front of the HTTP API for the links written into emails. */
export interface TrackingDomainSettings {
  /** The DNS name, e.g. track.example.com; links become https://<name>/… */
  readonly name: string;
  /** ARN of an ACM certificate for the name, in the stack's region. */
  readonly certificateArn: string;
}

/**
 * Why a value cannot be the base URL of the links in emails, or undefined if it can: it must be an
 * absolute https URL without a trailing slash, query, fragment or credentials.
 */
export function publicBaseUrlProblem(value: string): string | undefined {
  const example = 'e.g. "https://mail.example.com"';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `expected an https URL, ${example}`;
  }
  if (url.protocol !== 'https:' || !value.toLowerCase().startsWith('https://')) {
    return `expected an https URL (links in emails must use TLS), ${example}`;
  }
  if (value.endsWith('/')) return `expected no trailing slash, ${example}`;
  if (url.search || url.hash || value.includes('?') || value.includes('#')) {
    return `expected no query or fragment, ${example}`;
  }
  if (url.username || url.password) return `expected no user name or password, ${example}`;
  return undefined;
}

/** What the alarms watch, and where they notify. */
export interface AlarmSettings {
  /** An email address subscribed to the alarm topic (it confirms the subscription by email). */
  readonly email?: string | undefined;
  /** Bounces as a share of the emails sent in an hour, in percent, above which the bounce alarm fires. */
  readonly bounceRatePercent: number;
  /** Complaints as a share of the emails sent in an hour, in percent, above which the complaint alarm fires. */
  readonly complaintRatePercent: number;
  /** Emails sent in an hour below which the bounce and complaint rates are not judged (too few to mean anything). */
  readonly minimumHourlySends: number;
  /** Age, in seconds, of the oldest message on the (transactional) send queue above which the backlog alarm fires. */
  readonly oldestMessageSeconds: number;
  /** Age, in seconds, of the oldest message on the critical send queue above which its backlog alarm fires. */
  readonly criticalOldestMessageSeconds: number;
  /** Errors of one function within 5 minutes at which its alarm fires. */
  readonly lambdaErrors: number;
  /** 5xx responses of the HTTP API within 5 minutes at which its alarm fires. */
  readonly api5xxErrors: number;
}

/** The alarm thresholds a deployment gets unless cdk.json says otherwise (functions/core/defaults.ts). */
export const ALARM_DEFAULTS = DEFAULTS.alarms satisfies Required<Omit<AlarmSettings, 'email'>>;

/**
 * The values each threshold accepts (the monitoring construct checks the same ranges). Rates are
 * percentages above `min`; the others are whole numbers. A message older than the send queue's
 * retention is gone, so the age threshold stays below it.
 */
export const ALARM_RANGES = {
  bounceRatePercent: { min: 0, max: 100, whole: false },
  complaintRatePercent: { min: 0, max: 100, whole: false },
  minimumHourlySends: { min: 1, max: 1_000_000, whole: true },
  oldestMessageSeconds: { min: 60, max: QUEUES.send.retentionDays * 86_400 - 1, whole: true },
  criticalOldestMessageSeconds: { min: 60, max: QUEUES.sendCritical.retentionDays * 86_400 - 1, whole: true },
  lambdaErrors: { min: 1, max: 100_000, whole: true },
  api5xxErrors: { min: 1, max: 1_000_000, whole: true },
} as const satisfies Record<keyof typeof ALARM_DEFAULTS, { min: number; max: number; whole: boolean }>;

/** A percentage above `min` and at most `max` (fractions allowed: 0.1 is a complaint rate). */
const percentage = (min: number, max: number) => {
  const error = `expected a percentage above ${min} and at most ${max}, e.g. 0.5 for half a percent`;
  return z.number({ error }).gt(min, { error }).max(max, { error });
};

const AlarmsContext = z.strictObject({
  /** An email address the alarm topic notifies (the owner confirms the subscription by email). */
  email: z.email({ error: 'expected an email address such as "oncall@example.com"' }).optional(),
  /** Bounce rate (percent of an hour's sends) above which the bounce alarm fires. */
  bounceRatePercent: percentage(ALARM_RANGES.bounceRatePercent.min, ALARM_RANGES.bounceRatePercent.max).default(
    ALARM_DEFAULTS.bounceRatePercent,
  ),
  /** Complaint rate (percent of an hour's sends) above which the complaint alarm fires. */
  complaintRatePercent: percentage(
    ALARM_RANGES.complaintRatePercent.min,
    ALARM_RANGES.complaintRatePercent.max,
  ).default(ALARM_DEFAULTS.complaintRatePercent),
  /** Sends in an hour below which the rates are not judged. */
  minimumHourlySends: wholeNumber(
    ALARM_RANGES.minimumHourlySends.min,
    ALARM_RANGES.minimumHourlySends.max,
    'emails sent in an hour',
  ).default(ALARM_DEFAULTS.minimumHourlySends),
  /** Age of the oldest message on the send queue, in seconds, above which the backlog alarm fires. */
  oldestMessageSeconds: wholeNumber(
    ALARM_RANGES.oldestMessageSeconds.min,
    ALARM_RANGES.oldestMessageSeconds.max,
    "seconds (below the send queue's retention)",
  ).default(ALARM_DEFAULTS.oldestMessageSeconds),
  /** Age of the oldest message on the critical send queue, in seconds, above which its backlog alarm fires. */
  criticalOldestMessageSeconds: wholeNumber(
    ALARM_RANGES.criticalOldestMessageSeconds.min,
    ALARM_RANGES.criticalOldestMessageSeconds.max,
    "seconds (below the critical send queue's retention)",
  ).default(ALARM_DEFAULTS.criticalOldestMessageSeconds),
  /** Errors of one function within 5 minutes at which its alarm fires. */
  lambdaErrors: wholeNumber(
    ALARM_RANGES.lambdaErrors.min,
    ALARM_RANGES.lambdaErrors.max,
    'errors of one function in 5 minutes',
  ).default(ALARM_DEFAULTS.lambdaErrors),
  /** 5xx responses of the API within 5 minutes at which its alarm fires. */
  api5xxErrors: wholeNumber(
    ALARM_RANGES.api5xxErrors.min,
    ALARM_RANGES.api5xxErrors.max,
    '5xx responses in 5 minutes',
  ).default(ALARM_DEFAULTS.api5xxErrors),
});

/** The concurrency an SQS event source mapping accepts (Lambda's maximum concurrency: 2..1000). */
export const EVENT_SOURCE_CONCURRENCY = { min: 2, max: 1000 } as const;

const DispatchContext = z.strictObject({
  /**
   * Most concurrent dispatch invocations the event source of the critical queue, and that of the
   * transactional queue, each start (Lambda allows 2..1000).
   */
  maxConcurrency: wholeNumber(EVENT_SOURCE_CONCURRENCY.min, EVENT_SOURCE_CONCURRENCY.max).default(
    DEFAULTS.dispatch.maxConcurrency,
  ),
  /**
   * Most concurrent dispatch invocations the bulk queue's event source starts (Lambda allows 2..1000):
   * the cap on how fast a campaign drains, whatever the other queues do.
   */
  bulkMaxConcurrency: wholeNumber(
    EVENT_SOURCE_CONCURRENCY.min,
    EVENT_SOURCE_CONCURRENCY.max,
    'concurrent invocations (SQS event sources start at least 2)',
  ).default(DEFAULTS.dispatch.bulkMaxConcurrency),
});

/** The values `capacity.bulkReservePercent` accepts (the stack checks the same range). */
export const BULK_RESERVE_RANGE = { min: 0, max: 90 } as const;

const CapacityContext = z.strictObject({
  /** Percent of each provider rate window held back from bulk mail while critical/transactional mail is around. */
  bulkReservePercent: wholeNumber(BULK_RESERVE_RANGE.min, BULK_RESERVE_RANGE.max, 'percent').default(
    DEFAULTS.capacity.bulkReservePercent,
  ),
});

const SoftBounceContext = z.strictObject({
  /** Soft bounces of one address within the window that suppress it. */
  limit: wholeNumber(SOFT_BOUNCE_RANGES.limit.min, SOFT_BOUNCE_RANGES.limit.max).default(SOFT_BOUNCE_DEFAULTS.limit),
  /** The window, in hours. */
  windowHours: wholeNumber(SOFT_BOUNCE_RANGES.windowHours.min, SOFT_BOUNCE_RANGES.windowHours.max, 'hours').default(
    SOFT_BOUNCE_DEFAULTS.windowHours,
  ),
});

/** SES's own pause levels (it may pause an account there): the guard's pause lines must be below them. */
export const SES_PAUSE_PERCENT = { bounce: 10, complaint: 0.5 } as const;

/** The values the reputation guard's settings accept. */
export const GUARD_RANGES = {
  windowHours: { min: 1, max: MAX_WINDOW_HOURS },
  minVolume: { min: 1, max: 10_000_000 },
  heldWaitSeconds: { min: 1, max: 900 },
} as const;

/** A warn and a pause line, each a percentage, the warn below the pause and the pause below SES's. */
const rateThresholds = (kind: 'bounce' | 'complaint') => {
  const ses = SES_PAUSE_PERCENT[kind];
  const defaults = DEFAULTS.guard[kind];
  return z
    .strictObject({
      /** The rate at which the stream gets a warning (an event and a metric). */
      warnPercent: percentage(0, 100).default(defaults.warnPercent),
      /** The rate at which the stream is paused. */
      pausePercent: percentage(0, 100)
        .refine((v) => v < ses, {
          error: `expected a pause line below SES's own (${ses}%, where SES may pause the whole account)`,
        })
        .default(defaults.pausePercent),
    })
    .superRefine((v, ctx) => {
      if (v.warnPercent >= v.pausePercent) {
        ctx.addIssue({
          code: 'custom',
          path: ['warnPercent'],
          message: `expected the warn line below the pause line (${v.pausePercent}%)`,
        });
      }
    });
};

const BounceThresholds = rateThresholds('bounce');
const ComplaintThresholds = rateThresholds('complaint');

const GuardContext = z.strictObject({
  /** The rolling window of the rates, in hours. */
  windowHours: wholeNumber(GUARD_RANGES.windowHours.min, GUARD_RANGES.windowHours.max, 'hours').default(
    DEFAULTS.guard.windowHours,
  ),
  /** Sends of a stream within the window below which its rates decide nothing. */
  minVolume: wholeNumber(GUARD_RANGES.minVolume.min, GUARD_RANGES.minVolume.max, 'emails').default(
    DEFAULTS.guard.minVolume,
  ),
  /** Hard bounces, in percent of a stream's sends: warn and pause lines. */
  bounce: BounceThresholds.prefault({}),
  /** Complaints, in percent of a stream's sends: warn and pause lines. */
  complaint: ComplaintThresholds.prefault({}),
  /** Seconds a paused stream's email waits on its queue before the dispatcher looks at it again. */
  heldWaitSeconds: wholeNumber(GUARD_RANGES.heldWaitSeconds.min, GUARD_RANGES.heldWaitSeconds.max, 'seconds').default(
    DEFAULTS.guard.heldWaitSeconds,
  ),
});

/** When a failing webhook endpoint is disabled. */
const WebhooksContext = z.strictObject({
  /** Failed attempts in a row that disable an endpoint… */
  failureLimit: wholeNumber(1, 100_000, 'attempts').default(WEBHOOK_DEFAULTS.failureLimit),
  /** …once the first of them is at least this many hours old. */
  failingHours: wholeNumber(0, 720, 'hours').default(WEBHOOK_DEFAULTS.failingHours),
});

const boolean = z.boolean({ error: 'expected true or false' });

const TrackingDomainContext = z.strictObject({
  /** The DNS name the links use (https://<name>/…). */
  name: z
    .string({ error: 'expected a DNS name such as "track.example.com"' })
    .refine(isDnsName, { error: 'expected a DNS name such as "track.example.com" (no scheme, path or wildcard)' }),
  /** The ACM certificate API Gateway serves for the name (in the stack's region). */
  certificateArn: z.string({ error: 'expected an ACM certificate ARN' }).refine(isCertificateArn, {
    error: 'expected an ACM certificate ARN such as "arn:aws:acm:eu-west-1:123456789012:certificate/<id>"',
  }),
});

const TrackingContext = z.strictObject({
  /** Whether HTML mail gets an open pixel when a request does not say. */
  opens: boolean.default(DEFAULTS.tracking.opens),
  /** Whether links in HTML mail are rewritten to count clicks when a request does not say. */
  clicks: boolean.default(DEFAULTS.tracking.clicks),
  /** A custom domain (with its ACM certificate) in front of the API for the links in emails. */
  domain: TrackingDomainContext.optional(),
});

const PublicBaseUrl = z
  .string({ error: 'expected an https URL such as "https://mail.example.com"' })
  .superRefine((value, ctx) => {
    const problem = publicBaseUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const ContextObject = z.strictObject({
  /** SES identities (domains or email addresses) the dispatch function may send from. */
  senderIdentities: z
    .array(SenderIdentity, { error: 'expected a list of SES identities, e.g. ["example.com"]' })
    .min(1, { error: 'expected at least one SES identity (a domain or an email address)' }),
  /** Days a message record is kept before DynamoDB TTL removes it. */
  retentionDays: wholeNumber(1, 3650, 'days').default(DEFAULTS.retentionDays),
  dispatch: DispatchContext.prefault({}),
  /** How the providers' rate windows are shared between bulk and critical/transactional mail. */
  capacity: CapacityContext.prefault({}),
  /** Soft bounces of one address that suppress it, and within how many hours. */
  softBounce: SoftBounceContext.prefault({}),
  /**
   * Base URL of the links in emails (unsubscribe, open pixel, click redirect), for a custom domain in
   * front of the API that the stack does not manage; `tracking.domain` is the managed alternative (set
   * only one). Without either, links use the HTTP API's own URL.
   */
  publicBaseUrl: PublicBaseUrl.optional(),
  /** Open and click tracking defaults, and an optional custom domain for the links in emails. */
  tracking: TrackingContext.prefault({}),
  /**
   * The email providers the dispatcher may send through (SES, Azure Communication Services, an HTTP
   * API), as the functions' `ProvidersConfig` defines them; credentials only by Secrets Manager secret
   * name. Set together with `chain`. Without both: SES alone.
   */
  providers: z.unknown().optional(),
  /** The ids of `providers` in the order they are tried (live settings may reorder them later). */
  chain: z.unknown().optional(),
  /** Alarm thresholds, and an email address the alarm topic notifies. */
  alarms: AlarmsContext.prefault({}),
  /** The reputation guard: per-priority bounce and complaint rates, and when they warn or pause a stream. */
  guard: GuardContext.prefault({}),
  /** When a failing webhook endpoint is disabled. */
  webhooks: WebhooksContext.prefault({}),
});

/** Keys whose inline value is a credential, and the key that names a secret holding it instead. */
const INLINE_SECRETS: Readonly<Record<string, string>> = {
  token: 'tokenSecret',
  connectionString: 'connectionStringSecret',
};

/** A Secrets Manager secret ARN (any partition): arn:aws:secretsmanager:<region>:<account>:secret:<name>. */
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:secret:[\w/+=.@-]+$/;

/** The secret a provider definition names (Azure connection string, HTTP bearer token), if any. */
export function secretOf(def: ProviderDef): { readonly key: string; readonly name: string } | undefined {
  if (def.type === 'azure') return { key: 'connectionStringSecret', name: def.connectionStringSecret };
  if (def.type === 'http' && def.tokenSecret !== undefined) return { key: 'tokenSecret', name: def.tokenSecret };
  return undefined;
}

/**
 * `providers` and `chain` are checked with the functions' own schema (the dispatcher parses the same
 * JSON from its PROVIDERS variable), so what synthesizes is what the functions accept.
 */
function checkProviders(value: { providers?: unknown; chain?: unknown }, ctx: z.RefinementCtx): void {
  const { providers, chain } = value;
  if (providers === undefined && chain === undefined) return;
  if (providers === undefined || chain === undefined) {
    const [missing, present, example] =
      providers === undefined
        ? ['providers', 'chain', '[{ "id": "ses", "type": "ses" }]']
        : ['chain', 'providers', '["ses"] (the provider ids in the order they are tried)'];
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: `missing: "${CONTEXT_KEY}.${present}" is set, so "${CONTEXT_KEY}.${missing}" must be too, e.g. ${example}`,
    });
    return;
  }
  const result = ProvidersConfig.safeParse({ providers, chain });
  if (!result.success) {
    // The issues keep their code (unknown keys are described with the keys allowed) and their path,
    // which starts at "providers" or "chain" as in cdk.json.
    for (const issue of result.error.issues) {
      if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
        ctx.addIssue({ code: 'custom', path: issue.path, message: `missing (expected ${issue.expected})` });
      } else {
        ctx.addIssue({ ...issue } as z.core.$ZodRawIssue);
      }
    }
    return;
  }
  result.data.providers.forEach((def, index) => {
    const secret = secretOf(def);
    if (secret?.name.startsWith('arn:') && !SECRET_ARN.test(secret.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['providers', index, secret.key],
        message:
          'expected the name of a Secrets Manager secret, or its complete ARN ' +
          '("arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>")',
      });
    }
  });
}

export const MailrouteContextSchema = ContextObject.superRefine((value, ctx) => {
  const domain = value.tracking.domain;
  if (value.publicBaseUrl !== undefined && domain !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['tracking', 'domain'],
      message:
        `conflicts with "${CONTEXT_KEY}.publicBaseUrl": set only one of them ` +
        `(tracking.domain implies a publicBaseUrl of "https://${domain.name}")`,
    });
  }
})
  // Also when other fields are wrong, so that every problem is reported at once.
  .superRefine(checkProviders, { when: (payload) => typeof payload.value === 'object' && payload.value !== null })
  .transform(({ providers, chain, ...rest }) => {
    // checkProviders has reported whatever is wrong. zod still runs this step when the only issues
    // are unknown keys, so a failed parse here falls back to the default rather than throwing.
    const parsed = providers === undefined ? undefined : ProvidersConfig.safeParse({ providers, chain });
    const config = parsed?.success ? (parsed.data as ProvidersConfig) : structuredClone(DEFAULT_PROVIDERS);
    return { ...rest, providers: config.providers, chain: config.chain };
  });

export type MailrouteContext = z.output<typeof MailrouteContextSchema>;

/** Keys each (nested) object accepts, by its path below `mailroute`, for the unknown-key message. */
const ALLOWED_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(ContextObject.shape),
  dispatch: Object.keys(DispatchContext.shape),
  capacity: Object.keys(CapacityContext.shape),
  softBounce: Object.keys(SoftBounceContext.shape),
  tracking: Object.keys(TrackingContext.shape),
  alarms: Object.keys(AlarmsContext.shape),
  guard: Object.keys(GuardContext.shape),
  webhooks: Object.keys(WebhooksContext.shape),
  'guard.bounce': ['warnPercent', 'pausePercent'],
  'guard.complaint': ['warnPercent', 'pausePercent'],
  'tracking.domain': Object.keys(TrackingDomainContext.shape),
  'providers.*.limits.*': Object.keys(RateLimit.shape),
  'providers.*.warmUp': Object.keys(WarmUpDef.shape),
};

/** Keys a provider definition accepts, by its type. */
const PROVIDER_KEYS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  ProviderDef._zod.def.options.map((option) => [option.shape.type._zod.def.values[0], Object.keys(option.shape)]),
);

/** The keys allowed at `path` (array indices as `*`); for a provider, those of its type. */
function allowedKeys(path: readonly PropertyKey[], root: unknown): readonly string[] {
  const at = path.map((key) => (typeof key === 'number' ? '*' : String(key))).join('.');
  if (at === 'providers.*') {
    const providers = (root as { providers?: unknown } | undefined)?.providers;
    const type = Array.isArray(providers) ? (providers[path[1] as number] as { type?: unknown })?.type : undefined;
    return PROVIDER_KEYS[String(type)] ?? [];
  }
  return ALLOWED_KEYS[at] ?? [];
}

/** `mailroute.senderIdentities[1]`, `mailroute.dispatch.maxConcurrency`. */
const fieldPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    CONTEXT_KEY,
  );

function describe(issue: z.core.$ZodIssue, root: unknown): string[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue.path, root);
    return issue.keys.map((key) => {
      const field = `cdk.json context "${fieldPath([...issue.path, key])}"`;
      const instead = INLINE_SECRETS[key];
      if (instead !== undefined && issue.path[0] === 'providers') {
        return (
          `${field}: credentials cannot be written into cdk.json; ` +
          `use ${instead} (a Secrets Manager secret name) and store the value in that secret`
        );
      }
      return `${field}: unknown key (allowed here: ${allowed.join(', ')})`;
    });
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return [`cdk.json context "${CONTEXT_KEY}": expected an object such as { "senderIdentities": ["example.com"] }`];
  }
  return [`cdk.json context "${fieldPath(issue.path)}": ${issue.message}`];
}

/**
 * Validates the `mailroute` context value and fills in defaults.
 * @param raw the value of `app.node.tryGetContext('mailroute')`; a JSON string (as given with `cdk -c`) is accepted too
 * @throws Error naming every invalid field by its path, e.g. `cdk.json context "mailroute.retentionDays": expected …`
 */
export function parseContext(raw: unknown): MailrouteContext {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`cdk.json context "${CONTEXT_KEY}": expected an object, got a string that is not JSON`);
    }
  }
  const result = MailrouteContextSchema.safeParse(value);
  if (!result.success) {
    throw new Error(
      `Invalid configuration:\n  ${result.error.issues.flatMap((issue) => describe(issue, value)).join('\n  ')}`,
    );
  }
  return result.data;
}
