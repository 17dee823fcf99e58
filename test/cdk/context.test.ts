import { describe, expect, it } from 'vitest';
import { dispatchConfig, ingestConfig, sesEventsConfig } from '../../functions/config';
import { DEFAULT_PROVIDERS, DEFAULTS } from '../../functions/core/defaults';
import { ALARM_DEFAULTS, CONTEXT_KEY, parseContext } from '../../lib/context';
import { stackPropsFromContext } from '../../lib/mailroute-stack';
import { cdkJsonContext, PROVIDER_CHAIN } from './stack-fixture';

const valid = {
  senderIdentities: ['example.com'],
  retentionDays: 30,
  dispatch: { maxConcurrency: 10, bulkMaxConcurrency: 2 },
  capacity: { bulkReservePercent: 30 },
  softBounce: { limit: 3, windowHours: 72 },
  tracking: { opens: true, clicks: true },
  guard: {
    windowHours: 24,
    minVolume: 500,
    bounce: { warnPercent: 4, pausePercent: 8 },
    complaint: { warnPercent: 0.08, pausePercent: 0.3 },
    heldWaitSeconds: 300,
  },
};

/** What a context without `providers` and `chain` sends through: SES alone. */
const SES_ALONE = { providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] };

/** What a context without `alarms` gets: the default thresholds, no email address. */
const DEFAULT_ALARMS = {
  alarms: {
    bounceRatePercent: 5,
    complaintRatePercent: 0.1,
    minimumHourlySends: 100,
    oldestMessageSeconds: 300,
    criticalOldestMessageSeconds: 60,
    lambdaErrors: 5,
    api5xxErrors: 5,
  },
};

/** What a context without `webhooks` gets: an endpoint disabled after 20 failed attempts over 24 hours. */
const DEFAULT_WEBHOOKS = { webhooks: { failureLimit: 20, failingHours: 24 } };

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef';
const domain = { name: 'track.example.com', certificateArn: CERTIFICATE_ARN };

/** The message parseContext throws for `raw`, or '' if it accepts it. */
function refusal(raw: unknown): string {
  try {
    parseContext(raw);
    return '';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe('parseContext', () => {
  it("parses cdk.json's mailroute object", () => {
    expect(parseContext(cdkJsonContext()[CONTEXT_KEY])).toEqual({
      ...valid,
      ...SES_ALONE,
      ...DEFAULT_ALARMS,
      ...DEFAULT_WEBHOOKS,
    });
  });

  it('fills in defaults for retentionDays, dispatch.maxConcurrency, softBounce, tracking, the providers (SES alone) and the alarm thresholds, and leaves publicBaseUrl, tracking.domain and alarms.email unset', () => {
    expect(parseContext({ senderIdentities: ['noreply@example.com'] })).toEqual({
      senderIdentities: ['noreply@example.com'],
      retentionDays: 30,
      dispatch: { maxConcurrency: 10, bulkMaxConcurrency: 2 },
      capacity: { bulkReservePercent: 30 },
      softBounce: { limit: 3, windowHours: 72 },
      tracking: { opens: true, clicks: true },
      guard: valid.guard,
      ...SES_ALONE,
      ...DEFAULT_ALARMS,
      ...DEFAULT_WEBHOOKS,
    });
  });

  it("takes every default from functions/core/defaults.ts, as the functions' environment parser does", () => {
    const context = parseContext({ senderIdentities: ['example.com'] });
    expect(context).toMatchObject({
      retentionDays: DEFAULTS.retentionDays,
      dispatch: { maxConcurrency: DEFAULTS.dispatch.maxConcurrency },
      capacity: DEFAULTS.capacity,
      softBounce: DEFAULTS.softBounce,
      tracking: DEFAULTS.tracking,
      providers: DEFAULT_PROVIDERS.providers,
      chain: DEFAULT_PROVIDERS.chain,
      alarms: DEFAULTS.alarms,
      guard: DEFAULTS.guard,
    });
    expect(ALARM_DEFAULTS).toEqual(DEFAULTS.alarms);
    // A function whose variable is unset behaves as a deployment that left the context field out.
    const tables = {
      TABLE_MESSAGES: 'm',
      TABLE_SUPPRESSION: 's',
      TABLE_SETTINGS: 'k',
      TABLE_RATE_WINDOWS: 'r',
      TABLE_REPUTATION: 'g',
      TABLE_TEMPLATES: 't',
    };
    const queue = 'https://sqs.eu-west-1.amazonaws.com/123456789012/send';
    const queues = {
      QUEUE_SEND_URL: queue,
      QUEUE_SEND_CRITICAL_URL: queue,
      QUEUE_SEND_BULK_URL: queue,
      CONTENT_BUCKET: 'content',
    };
    const audience = { TABLE_CONTACTS: 'c', TABLE_BROADCASTS: 'b', TABLE_RULES: 'u', QUEUE_AUDIENCE_JOBS_URL: queue };
    expect(
      ingestConfig({ ...tables, TABLE_IDEMPOTENCY: 'i', TABLE_EMAIL_INDEX: 'e', ...queues, ...audience }).retentionDays,
    ).toBe(context.retentionDays);
    expect(sesEventsConfig(tables).softBounce).toEqual(context.softBounce);
    const { heldWaitSeconds, ...judging } = context.guard;
    expect(sesEventsConfig(tables).guard).toEqual(judging);
    const dispatch = dispatchConfig({
      ...tables,
      TABLE_COOLDOWNS: 'c',
      ...queues,
      SIGNING_KEYS_SECRET: 'keys',
      PUBLIC_BASE_URL: 'https://mail.example.com',
    });
    expect(dispatch.trackDefaults).toEqual(context.tracking);
    expect(dispatch.providers).toEqual({ providers: context.providers, chain: context.chain });
  });

  it('gives each parse its own providers, never the shared default object', () => {
    const first = parseContext({ senderIdentities: ['example.com'] });
    expect(first.providers).not.toBe(DEFAULT_PROVIDERS.providers);
    expect(first.chain).not.toBe(DEFAULT_PROVIDERS.chain);
  });

  it('fills in the default of a softBounce field left out', () => {
    expect(parseContext({ ...valid, softBounce: { limit: 5 } }).softBounce).toEqual({ limit: 5, windowHours: 72 });
    expect(parseContext({ ...valid, softBounce: { windowHours: 24 } }).softBounce).toEqual({
      limit: 3,
      windowHours: 24,
    });
  });

  it('accepts softBounce at the ends of its ranges', () => {
    expect(parseContext({ ...valid, softBounce: { limit: 1, windowHours: 1 } }).softBounce).toEqual({
      limit: 1,
      windowHours: 1,
    });
    expect(parseContext({ ...valid, softBounce: { limit: 100, windowHours: 720 } }).softBounce).toEqual({
      limit: 100,
      windowHours: 720,
    });
  });

  it.each([0, 101, 2.5, '3', null])('rejects softBounce.limit %j, naming the field', (limit) => {
    expect(() => parseContext({ ...valid, softBounce: { limit } })).toThrow(
      /cdk\.json context "mailroute\.softBounce\.limit": expected a whole number from 1 to 100/,
    );
  });

  it.each([0, 721, 1.5, '72'])('rejects softBounce.windowHours %j, naming the field', (windowHours) => {
    expect(() => parseContext({ ...valid, softBounce: { windowHours } })).toThrow(
      /cdk\.json context "mailroute\.softBounce\.windowHours": expected a whole number of hours from 1 to 720/,
    );
  });

  it('rejects a softBounce that is not an object, naming the field', () => {
    expect(() => parseContext({ ...valid, softBounce: 3 })).toThrow(/cdk\.json context "mailroute\.softBounce": /);
  });

  it('rejects an unknown softBounce key, naming it', () => {
    expect(() => parseContext({ ...valid, softBounce: { limits: 3 } })).toThrow(
      /"mailroute\.softBounce\.limits": unknown key \(allowed here: limit, windowHours\)/,
    );
  });

  it.each(['https://mail.example.com', 'https://mail.example.com/mailroute', 'https://api.example.com:8443'])(
    'accepts publicBaseUrl %j',
    (publicBaseUrl) => {
      expect(parseContext({ ...valid, publicBaseUrl }).publicBaseUrl).toBe(publicBaseUrl);
    },
  );

  it.each([
    ['http://mail.example.com', /expected an https URL/],
    ['mail.example.com', /expected an https URL/],
    ['https:mail.example.com', /expected an https URL/],
    ['https://mail.example.com/', /expected no trailing slash/],
    ['https://mail.example.com/u/', /expected no trailing slash/],
    ['https://mail.example.com?x=1', /expected no query or fragment/],
    ['https://user:secret@mail.example.com', /expected no user name or password/],
    [42, /expected an https URL/],
  ])('rejects publicBaseUrl %j, naming the field', (publicBaseUrl, reason) => {
    let message = '';
    try {
      parseContext({ ...valid, publicBaseUrl });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    expect(message).toMatch(/cdk\.json context "mailroute\.publicBaseUrl": /);
    expect(message).toMatch(reason);
  });

  describe('tracking', () => {
    it('fills in the default (true) of a flag left out', () => {
      expect(parseContext({ ...valid, tracking: { opens: false } }).tracking).toEqual({ opens: false, clicks: true });
      expect(parseContext({ ...valid, tracking: { clicks: false } }).tracking).toEqual({ opens: true, clicks: false });
    });

    it.each(['opens', 'clicks'])('rejects a %s that is not a boolean, naming the field', (flag) => {
      expect(refusal({ ...valid, tracking: { [flag]: 'false' } })).toMatch(
        new RegExp(`cdk\\.json context "mailroute\\.tracking\\.${flag}": expected true or false`),
      );
    });

    it('rejects an unknown tracking key, naming it', () => {
      expect(refusal({ ...valid, tracking: { open: false } })).toMatch(
        /"mailroute\.tracking\.open": unknown key \(allowed here: opens, clicks, domain\)/,
      );
    });

    it('accepts a domain with its name and certificate ARN', () => {
      expect(parseContext({ ...valid, tracking: { domain } }).tracking.domain).toEqual(domain);
    });

    it.each([
      'https://track.example.com',
      'track.example.com/',
      'track.example.com:443',
      '*.example.com',
      'track.example.com.',
      'localhost',
      'track_links.example.com',
      '',
      7,
    ])('rejects tracking.domain.name %j, naming the field', (name) => {
      expect(refusal({ ...valid, tracking: { domain: { ...domain, name } } })).toMatch(
        /cdk\.json context "mailroute\.tracking\.domain\.name": expected a DNS name such as "track\.example\.com"/,
      );
    });

    it.each([
      'arn:aws-cn:acm:cn-north-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef',
      'arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/12345678-90ab-cdef-1234-567890abcdef',
    ])('accepts tracking.domain.certificateArn %j (other partitions)', (certificateArn) => {
      expect(parseContext({ ...valid, tracking: { domain: { ...domain, certificateArn } } }).tracking.domain).toEqual({
        ...domain,
        certificateArn,
      });
    });

    it.each([
      '12345678-90ab-cdef-1234-567890abcdef',
      'arn:aws:iam::123456789012:server-certificate/track',
      'arn:aws:acm:eu-west-1:123456789012:certificate/',
      'arn:aws:acm:eu-west-1:1234:certificate/12345678-90ab-cdef-1234-567890abcdef',
      'arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/12345678-90ab-cdef-1234-567890abcdef',
      ` ${CERTIFICATE_ARN}`,
      null,
    ])('rejects tracking.domain.certificateArn %j, naming the field', (certificateArn) => {
      expect(refusal({ ...valid, tracking: { domain: { ...domain, certificateArn } } })).toMatch(
        /cdk\.json context "mailroute\.tracking\.domain\.certificateArn": expected an ACM certificate ARN/,
      );
    });

    it('rejects a domain without its certificate, naming the field', () => {
      expect(refusal({ ...valid, tracking: { domain: { name: domain.name } } })).toMatch(
        /cdk\.json context "mailroute\.tracking\.domain\.certificateArn": expected an ACM certificate ARN/,
      );
    });

    it('rejects an unknown tracking.domain key, naming it', () => {
      expect(refusal({ ...valid, tracking: { domain: { ...domain, zone: 'example.com' } } })).toMatch(
        /"mailroute\.tracking\.domain\.zone": unknown key \(allowed here: name, certificateArn\)/,
      );
    });

    it('rejects publicBaseUrl together with tracking.domain, saying to set only one', () => {
      const message = refusal({ ...valid, publicBaseUrl: 'https://mail.example.com', tracking: { domain } });
      expect(message).toMatch(
        /cdk\.json context "mailroute\.tracking\.domain": conflicts with "mailroute\.publicBaseUrl"/,
      );
      expect(message).toMatch(
        /set only one of them \(tracking\.domain implies a publicBaseUrl of "https:\/\/track\.example\.com"\)/,
      );
    });
  });

  describe('alarms', () => {
    it('takes its defaults from ALARM_DEFAULTS, with no email address', () => {
      const { alarms } = parseContext(valid);
      expect(alarms).toEqual(ALARM_DEFAULTS);
      expect(alarms.email).toBeUndefined();
    });

    it('fills in the default of a threshold left out, and keeps the email address', () => {
      expect(parseContext({ ...valid, alarms: { email: 'oncall@example.com', bounceRatePercent: 2 } }).alarms).toEqual({
        ...ALARM_DEFAULTS,
        email: 'oncall@example.com',
        bounceRatePercent: 2,
      });
    });

    it('accepts the ends of the ranges (a rate of 100%, the smallest counts, an age just below the retention)', () => {
      const alarms = {
        bounceRatePercent: 100,
        complaintRatePercent: 0.01,
        minimumHourlySends: 1,
        oldestMessageSeconds: 4 * 86_400 - 1,
        criticalOldestMessageSeconds: 60,
        lambdaErrors: 1,
        api5xxErrors: 1,
      };
      expect(parseContext({ ...valid, alarms }).alarms).toEqual(alarms);
    });

    it.each([
      ['bounceRatePercent', 0, /expected a percentage above 0 and at most 100/],
      ['bounceRatePercent', 101, /expected a percentage above 0 and at most 100/],
      ['bounceRatePercent', '5', /expected a percentage above 0 and at most 100/],
      ['complaintRatePercent', -0.1, /expected a percentage above 0 and at most 100/],
      ['minimumHourlySends', 0, /expected a whole number of emails sent in an hour from 1 to 1000000/],
      ['minimumHourlySends', 10.5, /expected a whole number of emails sent in an hour from 1 to 1000000/],
      ['oldestMessageSeconds', 59, /expected a whole number of seconds \(below the send queue's retention\) from 60/],
      ['oldestMessageSeconds', 4 * 86_400, /from 60 to 345599/],
      ['lambdaErrors', 0, /expected a whole number of errors of one function in 5 minutes from 1/],
      ['api5xxErrors', 0, /expected a whole number of 5xx responses in 5 minutes from 1/],
    ])('rejects %s %j, naming the field and the range', (key, value, reason) => {
      const message = refusal({ ...valid, alarms: { [key]: value } });
      expect(message).toMatch(new RegExp(`cdk\\.json context "mailroute\\.alarms\\.${key}": `));
      expect(message).toMatch(reason);
    });

    it.each(['oncall', 'oncall@', 42])('rejects email %j, naming the field', (email) => {
      expect(refusal({ ...valid, alarms: { email } })).toMatch(
        /cdk\.json context "mailroute\.alarms\.email": expected an email address such as "oncall@example\.com"/,
      );
    });

    it('rejects an unknown alarms key, listing the keys allowed', () => {
      expect(refusal({ ...valid, alarms: { bounceRate: 5 } })).toMatch(
        /"mailroute\.alarms\.bounceRate": unknown key \(allowed here: email, bounceRatePercent, complaintRatePercent, minimumHourlySends, oldestMessageSeconds, criticalOldestMessageSeconds, lambdaErrors, api5xxErrors\)/,
      );
    });

    it('rejects alarms that is not an object, naming the field', () => {
      expect(refusal({ ...valid, alarms: 'oncall@example.com' })).toMatch(/cdk\.json context "mailroute\.alarms": /);
    });

    it('reaches the stack props', () => {
      const context = parseContext({ ...valid, alarms: { email: 'oncall@example.com', lambdaErrors: 2 } });
      expect(stackPropsFromContext(context).alarms).toEqual({
        ...ALARM_DEFAULTS,
        email: 'oncall@example.com',
        lambdaErrors: 2,
      });
    });
  });

  describe('providers and chain', () => {
    const withChain = (providers: unknown, chain: unknown = ['ses']) => ({ ...valid, providers, chain });

    it('accepts a chain of SES (with limits), Azure and HTTP definitions, secrets by name or ARN', () => {
      const parsed = parseContext({ ...valid, ...PROVIDER_CHAIN });
      expect({ providers: parsed.providers, chain: parsed.chain }).toEqual(PROVIDER_CHAIN);
    });

    it('gives each context its own copy of the default', () => {
      const first = parseContext(valid);
      first.chain.push('changed');
      expect(parseContext(valid).chain).toEqual(['ses']);
    });

    it('accepts them as part of a JSON string (cdk -c mailroute=...)', () => {
      expect(parseContext(JSON.stringify({ ...valid, ...PROVIDER_CHAIN })).chain).toEqual(PROVIDER_CHAIN.chain);
    });

    it('accepts a definition left out of the chain, and a disabled one', () => {
      const providers = [
        { id: 'ses', type: 'ses' },
        { id: 'ses-backup', type: 'ses', enabled: false, configurationSet: 'backup' },
      ];
      expect(parseContext(withChain(providers)).providers).toEqual(providers);
    });

    it('rejects providers without chain, saying what chain is', () => {
      expect(refusal({ ...valid, providers: SES_ALONE.providers })).toMatch(
        /cdk\.json context "mailroute\.chain": missing: "mailroute\.providers" is set, so "mailroute\.chain" must be too, e\.g\. \["ses"\]/,
      );
    });

    it('rejects chain without providers, saying what providers are', () => {
      expect(refusal({ ...valid, chain: ['ses'] })).toMatch(
        /cdk\.json context "mailroute\.providers": missing: "mailroute\.chain" is set, so "mailroute\.providers" must be too/,
      );
    });

    it('rejects a chain id no provider has, naming the chain entry', () => {
      expect(refusal(withChain(SES_ALONE.providers, ['ses', 'sendgrid']))).toMatch(
        /cdk\.json context "mailroute\.chain\[1\]": no provider is defined with id "sendgrid"/,
      );
    });

    it('rejects a chain naming a provider twice', () => {
      expect(refusal(withChain(SES_ALONE.providers, ['ses', 'ses']))).toMatch(
        /"mailroute\.chain\[1\]": "ses" is listed twice/,
      );
    });

    it('rejects an empty chain', () => {
      expect(refusal(withChain(SES_ALONE.providers, []))).toMatch(
        /"mailroute\.chain": the chain needs at least one provider/,
      );
    });

    it('rejects an id defined twice, naming the second definition', () => {
      const twice = [
        { id: 'ses', type: 'ses' },
        { id: 'ses', type: 'ses', configurationSet: 'other' },
      ];
      expect(refusal(withChain(twice))).toMatch(
        /cdk\.json context "mailroute\.providers\[1\]\.id": "ses" is defined twice/,
      );
    });

    it('rejects an id that is not a short lower-case name', () => {
      expect(refusal(withChain([{ id: 'My SES', type: 'ses' }], ['My SES']))).toMatch(
        /"mailroute\.providers\[0\]\.id": ids are 1-40 of a-z/,
      );
    });

    it('rejects an unknown provider type, naming the types there are', () => {
      expect(refusal(withChain([{ id: 'ses', type: 'smtp' }]))).toMatch(
        /"mailroute\.providers\[0\]\.type": .*'ses' \| 'azure' \| 'http'/,
      );
    });

    it('refuses an inline HTTP token, pointing to tokenSecret', () => {
      const message = refusal(
        withChain([{ id: 'relay', type: 'http', url: 'https://relay.example.com/send', token: 's3cr3t' }], ['relay']),
      );
      expect(message).toMatch(
        /cdk\.json context "mailroute\.providers\[0\]\.token": credentials cannot be written into cdk\.json; use tokenSecret \(a Secrets Manager secret name\)/,
      );
      expect(message).not.toContain('s3cr3t');
    });

    it('refuses an inline Azure connection string, pointing to connectionStringSecret', () => {
      const message = refusal(
        withChain(
          [{ id: 'azure', type: 'azure', connectionString: 'endpoint=https://x.communication.azure.com/;accesskey=k' }],
          ['azure'],
        ),
      );
      expect(message).toMatch(
        /"mailroute\.providers\[0\]\.connectionString": credentials cannot be written into cdk\.json; use connectionStringSecret/,
      );
      expect(message).toMatch(/"mailroute\.providers\[0\]\.connectionStringSecret": missing \(expected string\)/);
      expect(message).not.toContain('accesskey');
    });

    it("rejects a key of another type's definition, listing the keys of this type", () => {
      expect(refusal(withChain([{ id: 'ses', type: 'ses', url: 'https://relay.example.com' }]))).toMatch(
        /"mailroute\.providers\[0\]\.url": unknown key \(allowed here: id, enabled, limits, warmUp, maxMessageBytes, type, configurationSet\)/,
      );
    });

    it('takes a warm-up ramp for bulk mail, and names what is wrong with one', () => {
      const warmUp = { startPerDay: 500, growth: 1.5, startDate: '2026-12-01' };
      expect(parseContext(withChain([{ id: 'ses', type: 'ses', warmUp }])).providers[0]).toEqual({
        id: 'ses',
        type: 'ses',
        warmUp,
      });
      expect(refusal(withChain([{ id: 'ses', type: 'ses', warmUp: { ...warmUp, growth: 20 } }]))).toMatch(
        /"mailroute\.providers\[0\]\.warmUp\.growth": growth must be at most 10/,
      );
      expect(refusal(withChain([{ id: 'ses', type: 'ses', warmUp: { startPerDay: 500, growth: 1.5 } }]))).toMatch(
        /"mailroute\.providers\[0\]\.warmUp\.startDate"/,
      );
      expect(refusal(withChain([{ id: 'ses', type: 'ses', warmUp: { ...warmUp, perHour: 1 } }]))).toMatch(
        /"mailroute\.providers\[0\]\.warmUp\.perHour": unknown key \(allowed here: startPerDay, growth, startDate\)/,
      );
    });

    it('rejects an HTTP provider whose url is not http(s)', () => {
      expect(refusal(withChain([{ id: 'relay', type: 'http', url: 'ftp://relay.example.com' }], ['relay']))).toMatch(
        /"mailroute\.providers\[0\]\.url": expected an http\(s\) URL/,
      );
    });

    it.each([
      [{ limit: 0, windowSeconds: 1 }, /"mailroute\.providers\[0\]\.limits\[0\]\.limit": limit must be at least 1/],
      [
        { limit: 1.5, windowSeconds: 1 },
        /"mailroute\.providers\[0\]\.limits\[0\]\.limit": limit must be a whole number/,
      ],
      [
        { limit: 10, windowSeconds: 32 * 86_400 },
        /"mailroute\.providers\[0\]\.limits\[0\]\.windowSeconds": windowSeconds must be at most 2678400/,
      ],
      [{ limit: 10 }, /"mailroute\.providers\[0\]\.limits\[0\]\.windowSeconds": missing \(expected number\)/],
      [
        { limit: 10, windowSeconds: 60, burst: 5 },
        /"mailroute\.providers\[0\]\.limits\[0\]\.burst": unknown key \(allowed here: limit, windowSeconds\)/,
      ],
    ])('rejects the limit %j, naming the field', (limit, reason) => {
      expect(refusal(withChain([{ id: 'ses', type: 'ses', limits: [limit] }]))).toMatch(reason);
    });

    it('rejects two limits with the same window', () => {
      const limits = [
        { limit: 10, windowSeconds: 60 },
        { limit: 20, windowSeconds: 60 },
      ];
      expect(refusal(withChain([{ id: 'ses', type: 'ses', limits }]))).toMatch(
        /"mailroute\.providers\[0\]\.limits": each windowSeconds may appear once/,
      );
    });

    it.each([
      'arn:aws:s3:::mailroute-secrets',
      'arn:aws:secretsmanager:eu-west-1:123456789012:parameter/relay-token',
      'arn:aws:secretsmanager:eu-west-1:1234:secret:relay-token-AbCdEf',
    ])('rejects a secret ARN that is not one of a Secrets Manager secret (%s)', (tokenSecret) => {
      expect(
        refusal(withChain([{ id: 'relay', type: 'http', url: 'https://relay.example.com', tokenSecret }], ['relay'])),
      ).toMatch(
        /"mailroute\.providers\[0\]\.tokenSecret": expected the name of a Secrets Manager secret, or its complete ARN/,
      );
    });

    it.each(['providers', 'chain'])('rejects a %s that is not a list', (key) => {
      expect(refusal({ ...valid, ...SES_ALONE, [key]: 'ses' })).toMatch(
        new RegExp(`cdk\\.json context "mailroute\\.${key}": .*expected array`),
      );
    });

    it('reports provider problems together with the problems of other fields', () => {
      expect(refusal({ ...valid, retentionDays: 0, providers: SES_ALONE.providers, chain: ['sendgrid'] })).toMatch(
        /"mailroute\.retentionDays"[\s\S]*"mailroute\.chain\[0\]": no provider is defined with id "sendgrid"/,
      );
    });

    it('reports an unknown key of the mailroute object next to a provider problem (and does not throw anything else)', () => {
      const message = refusal({ ...valid, retentionDay: 7, providers: SES_ALONE.providers, chain: ['sendgrid'] });
      expect(message).toMatch(/"mailroute\.retentionDay": unknown key/);
      expect(message).toMatch(/"mailroute\.chain\[0\]": no provider is defined with id "sendgrid"/);
    });
  });

  it('accepts the object as a JSON string (cdk -c mailroute=...)', () => {
    expect(parseContext(JSON.stringify(valid))).toEqual({
      ...valid,
      ...SES_ALONE,
      ...DEFAULT_ALARMS,
      ...DEFAULT_WEBHOOKS,
    });
  });

  it.each([0, 3651, 1.5, '30'])('rejects retentionDays %j, naming the field', (retentionDays) => {
    expect(() => parseContext({ ...valid, retentionDays })).toThrow(
      /cdk\.json context "mailroute\.retentionDays": expected/,
    );
  });

  it('rejects an empty senderIdentities, naming the field', () => {
    expect(() => parseContext({ ...valid, senderIdentities: [] })).toThrow(
      /cdk\.json context "mailroute\.senderIdentities": expected at least one/,
    );
  });

  it('rejects a missing senderIdentities, naming the field', () => {
    expect(() => parseContext({ retentionDays: 30 })).toThrow(/"mailroute\.senderIdentities": expected/);
  });

  it('rejects a sender identity that is neither a domain nor an email address, naming its index', () => {
    expect(() => parseContext({ ...valid, senderIdentities: ['example.com', 'not a domain'] })).toThrow(
      /"mailroute\.senderIdentities\[1\]": expected a domain/,
    );
  });

  it('rejects an unknown key, naming it', () => {
    expect(() => parseContext({ ...valid, retentionDay: 7 })).toThrow(
      /cdk\.json context "mailroute\.retentionDay": unknown key/,
    );
  });

  it('rejects an unknown nested key, naming it', () => {
    expect(() => parseContext({ ...valid, dispatch: { maxConcurency: 5 } })).toThrow(
      /"mailroute\.dispatch\.maxConcurency": unknown key/,
    );
  });

  it.each([1, 1001, 2.5, '3'])('rejects dispatch.bulkMaxConcurrency %j, naming the field and the range', (bulk) => {
    expect(refusal({ ...valid, dispatch: { bulkMaxConcurrency: bulk } })).toMatch(
      /"mailroute\.dispatch\.bulkMaxConcurrency": expected a whole number of concurrent invocations .* from 2 to 1000/,
    );
  });

  it('takes dispatch.bulkMaxConcurrency to the stack props (the bulk event source)', () => {
    const context = parseContext({ ...valid, dispatch: { bulkMaxConcurrency: 4 } });
    expect(context.dispatch).toEqual({ maxConcurrency: DEFAULTS.dispatch.maxConcurrency, bulkMaxConcurrency: 4 });
    expect(stackPropsFromContext(context).bulkMaxConcurrency).toBe(4);
  });

  it.each([59, 4 * 86_400])('rejects alarms.criticalOldestMessageSeconds %j, naming the field', (seconds) => {
    expect(refusal({ ...valid, alarms: { criticalOldestMessageSeconds: seconds } })).toMatch(
      /"mailroute\.alarms\.criticalOldestMessageSeconds": expected a whole number/,
    );
  });

  it.each([1, 1001])('rejects dispatch.maxConcurrency %j, naming the field', (maxConcurrency) => {
    expect(() => parseContext({ ...valid, dispatch: { maxConcurrency } })).toThrow(
      /"mailroute\.dispatch\.maxConcurrency": expected/,
    );
  });

  it.each([-1, 91, 12.5, '30'])('rejects capacity.bulkReservePercent %j, naming the field and its range', (value) => {
    expect(refusal({ ...valid, capacity: { bulkReservePercent: value } })).toMatch(
      /"mailroute\.capacity\.bulkReservePercent": expected a whole number of percent from 0 to 90/,
    );
  });

  it('takes capacity.bulkReservePercent into the stack props, and the dispatcher parses it as a share', () => {
    const context = parseContext({ ...valid, capacity: { bulkReservePercent: 45 } });
    expect(stackPropsFromContext(context).bulkReservePercent).toBe(45);
    expect(() => parseContext({ ...valid, capacity: { reserve: 45 } })).toThrow(
      /"mailroute\.capacity\.reserve": unknown key \(allowed here: bulkReservePercent\)/,
    );
  });

  it('reports every bad field at once', () => {
    expect(() => parseContext({ senderIdentities: [], retentionDays: -1 })).toThrow(
      /"mailroute\.senderIdentities"[\s\S]*"mailroute\.retentionDays"/,
    );
  });

  it('rejects a missing mailroute object', () => {
    expect(() => parseContext(undefined)).toThrow(/cdk\.json context "mailroute": expected an object/);
  });
});

describe('the reputation guard settings', () => {
  const withGuard = (guard: unknown) => ({ senderIdentities: ['example.com'], guard });

  it('fills in the default of each field left out', () => {
    expect(parseContext(withGuard({ minVolume: 50, bounce: { pausePercent: 6 } })).guard).toEqual({
      ...DEFAULTS.guard,
      minVolume: 50,
      bounce: { warnPercent: 4, pausePercent: 6 },
    });
  });

  it('takes fractions of a percent', () => {
    const guard = parseContext(withGuard({ complaint: { warnPercent: 0.05, pausePercent: 0.1 } })).guard;
    expect(guard.complaint).toEqual({ warnPercent: 0.05, pausePercent: 0.1 });
  });

  it.each([
    [
      { bounce: { warnPercent: 8, pausePercent: 8 } },
      'mailroute.guard.bounce.warnPercent": expected the warn line below the pause line (8%)',
    ],
    [
      { bounce: { warnPercent: 9 } },
      'mailroute.guard.bounce.warnPercent": expected the warn line below the pause line (8%)',
    ],
    [
      { bounce: { pausePercent: 10 } },
      `mailroute.guard.bounce.pausePercent": expected a pause line below SES's own (10%`,
    ],
    [
      { complaint: { pausePercent: 0.5 } },
      `mailroute.guard.complaint.pausePercent": expected a pause line below SES's own (0.5%`,
    ],
    [{ complaint: { warnPercent: 0 } }, 'mailroute.guard.complaint.warnPercent": expected a percentage above 0'],
    [{ windowHours: 169 }, 'mailroute.guard.windowHours": expected a whole number of hours from 1 to 168'],
    [{ minVolume: 0 }, 'mailroute.guard.minVolume": expected a whole number of emails from 1 to 10000000'],
    [{ heldWaitSeconds: 901 }, 'mailroute.guard.heldWaitSeconds": expected a whole number of seconds from 1 to 900'],
    [
      { minimumVolume: 5 },
      'mailroute.guard.minimumVolume": unknown key (allowed here: windowHours, minVolume, bounce, complaint, heldWaitSeconds)',
    ],
    [{ bounce: { pause: 5 } }, 'mailroute.guard.bounce.pause": unknown key (allowed here: warnPercent, pausePercent)'],
  ])('refuses %j, naming the field', (guard, message) => {
    expect(refusal(withGuard(guard))).toContain(message);
  });

  it('reaches the stack props unchanged', () => {
    const context = parseContext(withGuard({ minVolume: 42 }));
    expect(stackPropsFromContext(context).guard).toEqual({ ...DEFAULTS.guard, minVolume: 42 });
  });
});
