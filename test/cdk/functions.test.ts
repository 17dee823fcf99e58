import { beforeAll, describe, expect, it } from 'vitest';
import { dispatchConfig, ingestConfig, sesEventsConfig, trackingConfig } from '../../functions/config';
import { DEFAULTS } from '../../functions/core/defaults';
import { SpecFunction } from '../../lib/constructs/spec-function';
import { DISPATCH_TIMEOUT_SECONDS, QUEUES, SES_EVENTS_TIMEOUT_SECONDS } from '../../lib/resources';
import { type BoundResources, FUNCTION_NAMES, functionEnvironment, paramsFor, SPEC } from '../../lib/spec';
import {
  type CfnResource,
  environmentOf,
  logicalId,
  refOf,
  resource,
  resourcesOfType,
  type Synthesized,
  synthesize,
} from './stack-fixture';

let s: Synthesized;
let functions: Record<string, CfnResource>;

beforeAll(() => {
  // Values other than the defaults show the context reaches the functions.
  s = synthesize({ mailroute: { retentionDays: 90, softBounce: { limit: 5, windowHours: 24 } } });
  functions = resourcesOfType(s.template, 'AWS::Lambda::Function');
});

/**
 * The environment a function would see once deployed: CloudFormation references (`${...}`) become a
 * value valid for any of them (a non-empty name that is also a URL).
 */
const deployedEnvironment = (fn: CfnResource): Record<string, string> =>
  Object.fromEntries(
    Object.entries(environmentOf(fn)).map(([key, value]) => [
      key,
      value.includes('${') ? 'https://sqs.eu-west-1.amazonaws.com/123456789012/resolved-reference' : value,
    ]),
  );

const COMMON = ['NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'];

describe('every Lambda function', () => {
  it('is exactly the ingest, dispatch, ses-events, tracking, console, webhooks, webhook-api and audience functions', () => {
    const { ingest, dispatch, sesEvents, tracking, console } = s.stack;
    const { webhooks, webhookApi, audience } = s.stack.functions;
    expect(Object.keys(functions).sort()).toEqual(
      [ingest, dispatch, sesEvents, tracking, console, webhooks, webhookApi, audience]
        .map((construct) => logicalId(construct.handler.function))
        .sort(),
    );
  });

  it("is, for each function of the spec, the stack's construct of it (stack.functions)", () => {
    const { ingest, dispatch, sesEvents, tracking, console } = s.stack;
    expect(Object.keys(s.stack.functions).sort()).toEqual([...FUNCTION_NAMES].sort());
    // The webhook and audience functions have no construct of their own: each is built from its spec entry alone.
    const { webhooks, webhookApi, audience } = s.stack.functions;
    expect(webhooks).toBeInstanceOf(SpecFunction);
    expect(webhookApi).toBeInstanceOf(SpecFunction);
    expect(audience).toBeInstanceOf(SpecFunction);
    expect(s.stack.functions).toEqual({
      ingest,
      dispatch,
      sesEvents,
      tracking,
      console,
      webhooks,
      webhookApi,
      audience,
    });
  });

  it('runs Node.js 22', () => {
    for (const fn of Object.values(functions)) expect(fn.Properties?.Runtime).toBe('nodejs22.x');
  });

  it('runs on arm64', () => {
    for (const fn of Object.values(functions)) expect(fn.Properties?.Architectures).toEqual(['arm64']);
  });

  it('has active X-Ray tracing', () => {
    for (const fn of Object.values(functions)) expect(fn.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('logs to its own log group, which keeps events for one month', () => {
    const logGroups = new Set<string>();
    for (const fn of Object.values(functions)) {
      const logGroup = (fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
      expect(logGroup, 'LoggingConfig.LogGroup is a Ref').toBeTypeOf('string');
      const group = resource(s.template, logGroup as string);
      expect(group.Type).toBe('AWS::Logs::LogGroup');
      expect(group.Properties?.RetentionInDays).toBe(30);
      logGroups.add(logGroup as string);
    }
    expect(logGroups.size).toBe(Object.keys(functions).length);
  });

  it('sets the Powertools service name and metrics namespace', () => {
    for (const fn of Object.values(functions)) {
      expect(environmentOf(fn)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'mailroute',
        POWERTOOLS_METRICS_NAMESPACE: 'Mailroute',
      });
    }
  });
});

/** The reputation guard's thresholds as cdk.json's defaults give them to ingest and ses-events. */
const GUARD_VARIABLES = {
  GUARD_WINDOW_HOURS: '24',
  GUARD_MIN_VOLUME: '500',
  GUARD_BOUNCE_WARN_PERCENT: '4',
  GUARD_BOUNCE_PAUSE_PERCENT: '8',
  GUARD_COMPLAINT_WARN_PERCENT: '0.08',
  GUARD_COMPLAINT_PAUSE_PERCENT: '0.3',
};

describe('ingest function', () => {
  let fn: CfnResource;
  beforeAll(() => {
    fn = resource(s.template, logicalId(s.stack.ingest.handler.function));
  });

  it('gets exactly its tables (suppression for the suppression API, contacts for the contacts API, rate windows for per-key limits, reputation for the streams API), the send queue of each priority, the audience jobs queue, the retention period and the guard thresholds', () => {
    const t = s.stack.tables;
    expect(environmentOf(fn)).toEqual({
      ...Object.fromEntries(COMMON.map((key) => [key, expect.any(String)])),
      TABLE_MESSAGES: refOf(logicalId(t.messages)),
      TABLE_IDEMPOTENCY: refOf(logicalId(t.idempotency)),
      TABLE_SETTINGS: refOf(logicalId(t.settings)),
      TABLE_SUPPRESSION: refOf(logicalId(t.suppression)),
      TABLE_CONTACTS: refOf(logicalId(t.contacts)),
      TABLE_BROADCASTS: refOf(logicalId(t.broadcasts)),
      TABLE_RATE_WINDOWS: refOf(logicalId(t.rateWindows)),
      TABLE_REPUTATION: refOf(logicalId(t.reputation)),
      TABLE_TEMPLATES: refOf(logicalId(t.templates)),
      TABLE_RULES: refOf(logicalId(t.rules)),
      TABLE_EMAIL_INDEX: refOf(logicalId(t.emailIndex)),
      QUEUE_AUDIENCE_JOBS_URL: refOf(logicalId(s.stack.queues.audienceJobs.queue)),
      QUEUE_SEND_URL: refOf(logicalId(s.stack.sendQueue.queue)),
      QUEUE_SEND_CRITICAL_URL: refOf(logicalId(s.stack.priorityQueues.critical.queue)),
      QUEUE_SEND_BULK_URL: refOf(logicalId(s.stack.priorityQueues.bulk.queue)),
      CONTENT_BUCKET: refOf(logicalId(s.stack.content.bucket)),
      QUEUE_WEBHOOK_EVENTS_URL: refOf(logicalId(s.stack.queues.webhookEvents.queue)),
      // Scheduled sends (lib/constructs/scheduling.ts; their values are asserted in scheduling.test.ts).
      SCHEDULE_GROUP: expect.any(String),
      SCHEDULER_ROLE_ARN: expect.any(String),
      SCHEDULER_DLQ_ARN: expect.any(String),
      QUEUE_SEND_ARN: expect.any(String),
      QUEUE_SEND_CRITICAL_ARN: expect.any(String),
      QUEUE_SEND_BULK_ARN: expect.any(String),
      QUEUE_AUDIENCE_JOBS_ARN: expect.any(String),
      RETENTION_DAYS: String(s.context.retentionDays),
      PROVIDERS: expect.any(String),
      ...GUARD_VARIABLES,
    });
  });

  it('gets the provider definitions and default chain (SES alone by default), for the settings API', () => {
    expect(JSON.parse(environmentOf(fn).PROVIDERS ?? '')).toEqual({
      providers: [{ id: 'ses', type: 'ses' }],
      chain: ['ses'],
    });
    expect(ingestConfig(deployedEnvironment(fn)).providers).toEqual({
      providers: [{ id: 'ses', type: 'ses' }],
      chain: ['ses'],
    });
  });

  it("satisfies the function's environment schema (functions/config.ts)", () => {
    expect(() => ingestConfig(deployedEnvironment(fn))).not.toThrow();
  });

  it('has a 10 s timeout and 512 MiB', () => {
    expect(fn.Properties).toMatchObject({ Timeout: 10, MemorySize: 512 });
  });
});

describe('dispatch function', () => {
  let fn: CfnResource;
  beforeAll(() => {
    fn = resource(s.template, logicalId(s.stack.dispatch.handler.function));
  });

  it('gets exactly its tables, the providers (SES alone), the send queue of each priority and its DLQ, the configuration set, its timeout, the max receive count of each queue, the signing keys, the base URL of links, the tracking defaults, the bulk reserve and the held-mail wait', () => {
    const t = s.stack.tables;
    expect(environmentOf(fn)).toEqual({
      ...Object.fromEntries(COMMON.map((key) => [key, expect.any(String)])),
      TABLE_MESSAGES: refOf(logicalId(t.messages)),
      TABLE_SUPPRESSION: refOf(logicalId(t.suppression)),
      TABLE_COOLDOWNS: refOf(logicalId(t.cooldowns)),
      TABLE_SETTINGS: refOf(logicalId(t.settings)),
      TABLE_RATE_WINDOWS: refOf(logicalId(t.rateWindows)),
      TABLE_REPUTATION: refOf(logicalId(t.reputation)),
      GUARD_HELD_WAIT_SECONDS: String(DEFAULTS.guard.heldWaitSeconds),
      PROVIDERS: JSON.stringify({ providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] }),
      QUEUE_SEND_URL: refOf(logicalId(s.stack.sendQueue.queue)),
      QUEUE_SEND_DLQ_URL: refOf(logicalId(s.stack.sendQueue.deadLetterQueue)),
      QUEUE_SEND_CRITICAL_URL: refOf(logicalId(s.stack.priorityQueues.critical.queue)),
      QUEUE_SEND_CRITICAL_DLQ_URL: refOf(logicalId(s.stack.priorityQueues.critical.deadLetterQueue)),
      QUEUE_SEND_BULK_URL: refOf(logicalId(s.stack.priorityQueues.bulk.queue)),
      CONTENT_BUCKET: refOf(logicalId(s.stack.content.bucket)),
      QUEUE_SEND_BULK_DLQ_URL: refOf(logicalId(s.stack.priorityQueues.bulk.deadLetterQueue)),
      SES_CONFIGURATION_SET: refOf(logicalId(s.stack.configurationSet)),
      SEND_MAX_RECEIVE_COUNT: String(QUEUES.send.maxReceiveCount),
      SEND_CRITICAL_MAX_RECEIVE_COUNT: String(QUEUES.sendCritical.maxReceiveCount),
      SEND_BULK_MAX_RECEIVE_COUNT: String(QUEUES.sendBulk.maxReceiveCount),
      DISPATCH_TIMEOUT_SECONDS: String(fn.Properties?.Timeout),
      SIGNING_KEYS_SECRET: refOf(logicalId(s.stack.signingKeys.secret)),
      PUBLIC_BASE_URL: expect.any(String),
      TRACK_OPENS: expect.any(String),
      TRACK_CLICKS: expect.any(String),
      BULK_RESERVE_PERCENT: String(DEFAULTS.capacity.bulkReservePercent),
      QUEUE_WEBHOOK_EVENTS_URL: refOf(logicalId(s.stack.queues.webhookEvents.queue)),
    });
  });

  it("satisfies the function's environment schema (functions/config.ts)", () => {
    expect(() => dispatchConfig(deployedEnvironment(fn))).not.toThrow();
  });

  it('knows every send queue with its own DLQ and maxReceiveCount, critical first', () => {
    // Each reference resolved to a URL that names what it refers to.
    const env = Object.fromEntries(
      Object.entries(environmentOf(fn)).map(([key, value]) => [
        key,
        value.replace(/\$\{([^}]+)\}/g, 'https://sqs.eu-west-1.amazonaws.com/123456789012/$1').replace(/[.]Arn$/, ''),
      ]),
    );
    const { sendQueues } = dispatchConfig(env);
    const { critical, transactional, bulk } = s.stack.priorityQueues;
    expect(sendQueues).toEqual(
      [
        [critical, QUEUES.sendCritical],
        [transactional, QUEUES.send],
        [bulk, QUEUES.sendBulk],
      ].map(([q, spec]) => ({
        url: expect.stringContaining(logicalId((q as typeof critical).queue)),
        deadLetterUrl: expect.stringContaining(logicalId((q as typeof critical).deadLetterQueue)),
        maxReceiveCount: (spec as typeof QUEUES.send).maxReceiveCount,
      })),
    );
  });

  it("takes the context's capacity.bulkReservePercent, which the dispatcher reads as a share", () => {
    const custom = synthesize({ mailroute: { capacity: { bulkReservePercent: 45 } } });
    const customFn = resource(custom.template, logicalId(custom.stack.dispatch.handler.function));
    expect(environmentOf(customFn).BULK_RESERVE_PERCENT).toBe('45');
    expect(dispatchConfig(deployedEnvironment(customFn)).bulkReserve).toBe(0.45);
  });

  it("links to the HTTP API's endpoint by default", () => {
    // The ApiEndpoint attribute (https://{id}.execute-api.{region}.amazonaws.com) has no trailing slash.
    expect(environmentOf(fn).PUBLIC_BASE_URL).toBe(`\${${logicalId(s.stack.api.httpApi)}.ApiEndpoint}`);
  });

  it('links to publicBaseUrl of the context when it is set', () => {
    const custom = synthesize({ mailroute: { publicBaseUrl: 'https://mail.example.com' } });
    const customFn = resource(custom.template, logicalId(custom.stack.dispatch.handler.function));
    expect(environmentOf(customFn).PUBLIC_BASE_URL).toBe('https://mail.example.com');
    expect(dispatchConfig(deployedEnvironment(customFn)).publicBaseUrl).toBe('https://mail.example.com');
  });

  it('tracks opens and clicks by default (TRACK_OPENS and TRACK_CLICKS "true")', () => {
    expect(environmentOf(fn)).toMatchObject({ TRACK_OPENS: 'true', TRACK_CLICKS: 'true' });
  });

  it.each([
    {
      flag: 'opens',
      environment: { TRACK_OPENS: 'false', TRACK_CLICKS: 'true' },
      defaults: { opens: false, clicks: true },
    },
    {
      flag: 'clicks',
      environment: { TRACK_OPENS: 'true', TRACK_CLICKS: 'false' },
      defaults: { opens: true, clicks: false },
    },
  ])('turns off only $flag when the context says tracking.$flag false', ({ flag, environment, defaults }) => {
    const off = synthesize({ mailroute: { tracking: { [flag]: false } } });
    const offFn = resource(off.template, logicalId(off.stack.dispatch.handler.function));
    expect(environmentOf(offFn)).toMatchObject(environment);
    expect(dispatchConfig(deployedEnvironment(offFn)).trackDefaults).toEqual(defaults);
  });

  it('has the dispatch timeout and 512 MiB', () => {
    expect(fn.Properties).toMatchObject({ Timeout: DISPATCH_TIMEOUT_SECONDS, MemorySize: 512 });
  });
});

describe('ses-events function', () => {
  let fn: CfnResource;
  beforeAll(() => {
    fn = resource(s.template, logicalId(s.stack.sesEvents.handler.function));
  });

  it('gets exactly the messages, suppression, reputation and templates tables, the soft-bounce settings of the context and the guard thresholds', () => {
    const t = s.stack.tables;
    expect(environmentOf(fn)).toEqual({
      ...Object.fromEntries(COMMON.map((key) => [key, expect.any(String)])),
      TABLE_MESSAGES: refOf(logicalId(t.messages)),
      TABLE_SUPPRESSION: refOf(logicalId(t.suppression)),
      TABLE_REPUTATION: refOf(logicalId(t.reputation)),
      TABLE_TEMPLATES: refOf(logicalId(t.templates)),
      SOFT_BOUNCE_LIMIT: '5',
      SOFT_BOUNCE_WINDOW_HOURS: '24',
      ...GUARD_VARIABLES,
      QUEUE_WEBHOOK_EVENTS_URL: refOf(logicalId(s.stack.queues.webhookEvents.queue)),
    });
  });

  it('gets the guard thresholds of the context', () => {
    const custom = synthesize({ mailroute: { guard: { minVolume: 42, bounce: { warnPercent: 2, pausePercent: 5 } } } });
    const customFn = resource(custom.template, logicalId(custom.stack.sesEvents.handler.function));
    expect(sesEventsConfig(deployedEnvironment(customFn)).guard).toEqual({
      windowHours: 24,
      minVolume: 42,
      bounce: { warnPercent: 2, pausePercent: 5 },
      complaint: DEFAULTS.guard.complaint,
    });
  });

  it("satisfies the function's environment schema (functions/config.ts)", () => {
    expect(sesEventsConfig(deployedEnvironment(fn)).softBounce).toEqual(s.context.softBounce);
  });

  it('has the ses-events timeout and 256 MiB', () => {
    expect(fn.Properties).toMatchObject({ Timeout: SES_EVENTS_TIMEOUT_SECONDS, MemorySize: 256 });
  });
});

describe('tracking function', () => {
  let fn: CfnResource;
  beforeAll(() => {
    fn = resource(s.template, logicalId(s.stack.tracking.handler.function));
  });

  it('gets exactly the messages and suppression tables and the signing keys', () => {
    expect(environmentOf(fn)).toEqual({
      ...Object.fromEntries(COMMON.map((key) => [key, expect.any(String)])),
      TABLE_MESSAGES: refOf(logicalId(s.stack.tables.messages)),
      TABLE_SUPPRESSION: refOf(logicalId(s.stack.tables.suppression)),
      SIGNING_KEYS_SECRET: refOf(logicalId(s.stack.signingKeys.secret)),
      QUEUE_WEBHOOK_EVENTS_URL: refOf(logicalId(s.stack.queues.webhookEvents.queue)),
    });
  });

  it("satisfies the function's environment schema (functions/config.ts)", () => {
    expect(() => trackingConfig(deployedEnvironment(fn))).not.toThrow();
  });

  it('has a 5 s timeout and 256 MiB', () => {
    expect(fn.Properties).toMatchObject({ Timeout: 5, MemorySize: 256 });
  });
});

describe('SES configuration set', () => {
  it('exists once, named by CloudFormation', () => {
    const sets = Object.values(resourcesOfType(s.template, 'AWS::SES::ConfigurationSet'));
    expect(sets).toHaveLength(1);
    expect(sets[0]?.Properties?.Name).toBeUndefined();
  });

  it("is what the dispatch function's SES_CONFIGURATION_SET names", () => {
    const dispatch = resource(s.template, logicalId(s.stack.dispatch.handler.function));
    expect(environmentOf(dispatch).SES_CONFIGURATION_SET).toBe(refOf(logicalId(s.stack.configurationSet)));
  });
});

describe('the spec (lib/spec.ts)', () => {
  /** A deployment and resource names as the local stack gives them (every optional value set). */
  const deployment = {
    retentionDays: 7,
    providersJson: JSON.stringify({ providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] }),
    sesConfigurationSet: 'local-set',
    publicBaseUrl: 'https://mail.example.com',
    trackOpens: false,
    trackClicks: true,
    softBounce: { limit: 2, windowHours: 12 },
    bulkReservePercent: 25,
    guard: { ...DEFAULTS.guard, minVolume: 50 },
    webhooks: { failureLimit: 20, failingHours: 24 },
  };
  const bound: BoundResources = {
    tables: Object.fromEntries(
      Object.entries(SPEC.tables).map(([name, t]) => [name, t.id]),
    ) as BoundResources['tables'],
    queues: Object.fromEntries(
      Object.keys(SPEC.queues).map((name) => [name, `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`]),
    ) as BoundResources['queues'],
    deadLetterQueues: Object.fromEntries(
      Object.keys(SPEC.queues).map((name) => [name, `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}-dlq`]),
    ) as BoundResources['deadLetterQueues'],
    secrets: { signingKeys: 'signing-keys' },
    buckets: { content: 'content-bucket' },
    scheduling: {
      group: 'schedules',
      roleArn: 'arn:aws:iam::111111111111:role/scheduler',
      deadLetterArn: 'arn:aws:sqs:eu-west-1:111111111111:scheduler-dlq',
      queueArns: {
        transactional: 'arn:aws:sqs:eu-west-1:111111111111:send',
        critical: 'arn:aws:sqs:eu-west-1:111111111111:critical',
        bulk: 'arn:aws:sqs:eu-west-1:111111111111:bulk',
      },
      jobsQueueArn: 'arn:aws:sqs:eu-west-1:111111111111:jobs',
    },
  };

  it.each(FUNCTION_NAMES)(
    'gives %s, as the local stack builds it, exactly the variables the stack sets (but the common ones)',
    (name) => {
      const fn = resource(s.template, logicalId(s.stack.functions[name].handler.function));
      const stackVariables = Object.keys(environmentOf(fn)).filter((key) => !COMMON.includes(key));
      const specVariables = Object.keys(functionEnvironment(name, paramsFor(name, deployment), bound));
      expect(specVariables.sort()).toEqual(stackVariables.sort());
    },
  );

  it("builds environments the functions' own parsers accept, with the deployment's values", () => {
    const env = (name: (typeof FUNCTION_NAMES)[number]) =>
      functionEnvironment(name, paramsFor(name, deployment), bound);
    expect(ingestConfig(env('ingest'))).toMatchObject({ retentionDays: 7, sendQueueUrl: bound.queues.send });
    expect(dispatchConfig(env('dispatch'))).toMatchObject({
      sesConfigurationSet: 'local-set',
      maxReceiveCount: QUEUES.send.maxReceiveCount,
      timeoutSeconds: DISPATCH_TIMEOUT_SECONDS,
      trackDefaults: { opens: false, clicks: true },
      bulkReserve: 0.25,
      signingKeysSecret: 'signing-keys',
      sendQueueUrl: bound.queues.send,
      sendDeadLetterQueueUrl: bound.deadLetterQueues.send,
    });
    expect(sesEventsConfig(env('sesEvents')).softBounce).toEqual({ limit: 2, windowHours: 12 });
    expect(trackingConfig(env('tracking')).tables).toEqual({ messages: 'Messages', suppression: 'Suppression' });
  });
});
