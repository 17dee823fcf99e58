import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  DEFAULT_PROVIDERS,
  type DispatchConfig,
  dispatchConfig,
  ingestConfig,
  sesEventsConfig,
  trackingConfig,
} from '../../functions/config';
import { DEFAULTS } from '../../functions/core/defaults';
import type { ChainConfig } from '../../functions/core/providers';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/send';
const CRITICAL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/critical';
const BULK = 'https://sqs.eu-west-1.amazonaws.com/123456789012/bulk';
const JOBS = 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs';

const INGEST = {
  TABLE_MESSAGES: 'messages',
  TABLE_IDEMPOTENCY: 'idempotency',
  TABLE_SETTINGS: 'settings',
  TABLE_SUPPRESSION: 'suppression',
  TABLE_CONTACTS: 'contacts',
  TABLE_BROADCASTS: 'broadcasts',
  TABLE_RATE_WINDOWS: 'rate-windows',
  TABLE_REPUTATION: 'reputation',
  TABLE_TEMPLATES: 'templates',
  TABLE_RULES: 'rules',
  TABLE_EMAIL_INDEX: 'email-index',
  QUEUE_SEND_URL: QUEUE,
  QUEUE_SEND_CRITICAL_URL: CRITICAL,
  QUEUE_SEND_BULK_URL: BULK,
  QUEUE_AUDIENCE_JOBS_URL: JOBS,
  CONTENT_BUCKET: 'content',
};

const DISPATCH = {
  TABLE_MESSAGES: 'messages',
  TABLE_SUPPRESSION: 'suppression',
  TABLE_COOLDOWNS: 'cooldowns',
  TABLE_SETTINGS: 'settings',
  TABLE_RATE_WINDOWS: 'rate-windows',
  TABLE_REPUTATION: 'reputation',
  QUEUE_SEND_URL: QUEUE,
  QUEUE_SEND_CRITICAL_URL: CRITICAL,
  QUEUE_SEND_BULK_URL: BULK,
  SIGNING_KEYS_SECRET: 'signing-keys',
  PUBLIC_BASE_URL: 'https://mail.example.com',
  CONTENT_BUCKET: 'content',
};

describe('ingestConfig', () => {
  it('maps the variables into the config object, with the defaults of core/defaults.ts', () => {
    expect(ingestConfig(INGEST)).toEqual({
      tables: {
        messages: 'messages',
        idempotency: 'idempotency',
        settings: 'settings',
        suppression: 'suppression',
        contacts: 'contacts',
        broadcasts: 'broadcasts',
        rateWindows: 'rate-windows',
        reputation: 'reputation',
        templates: 'templates',
        rules: 'rules',
        emailIndex: 'email-index',
      },
      sendQueueUrl: QUEUE,
      jobsQueueUrl: JOBS,
      contentBucket: 'content',
      priorityQueueUrls: { critical: CRITICAL, transactional: QUEUE, bulk: BULK },
      retentionDays: DEFAULTS.retentionDays,
      providers: DEFAULT_PROVIDERS,
      guard: {
        windowHours: DEFAULTS.guard.windowHours,
        minVolume: DEFAULTS.guard.minVolume,
        bounce: DEFAULTS.guard.bounce,
        complaint: DEFAULTS.guard.complaint,
      },
    });
    expect(DEFAULTS.retentionDays).toBe(30);
    expect(DEFAULT_PROVIDERS).toEqual({ providers: [{ id: 'ses', type: 'ses' }], chain: ['ses'] });
  });

  it('takes the retention and the providers from the environment when set', () => {
    const providers = {
      providers: [{ id: 'relay', type: 'http', url: 'https://relay.example.com/send' }],
      chain: ['relay'],
    };
    const config = ingestConfig({ ...INGEST, RETENTION_DAYS: '90', PROVIDERS: JSON.stringify(providers) });
    expect(config.retentionDays).toBe(90);
    expect(config.providers.chain).toEqual(['relay']);
    expect(config.providers.providers.map((p) => p.id)).toEqual(['relay']);
  });

  it.each([
    [{ ...INGEST, TABLE_MESSAGES: '' }, /TABLE_MESSAGES: /],
    [{ ...INGEST, QUEUE_SEND_URL: 'not a url' }, /QUEUE_SEND_URL: /],
    [{ ...INGEST, RETENTION_DAYS: '0' }, /RETENTION_DAYS: /],
    [{ ...INGEST, RETENTION_DAYS: '1.5' }, /RETENTION_DAYS: /],
  ])('names the variable that is wrong (%#)', (env, field) => {
    expect(() => ingestConfig(env)).toThrow(/^Invalid function environment: /);
    expect(() => ingestConfig(env)).toThrow(field);
  });

  it('names every missing variable at once', () => {
    const { TABLE_SETTINGS: _s, QUEUE_SEND_URL: _q, ...rest } = INGEST;
    expect(() => ingestConfig(rest)).toThrow(
      /TABLE_SETTINGS: .*; QUEUE_SEND_URL: |QUEUE_SEND_URL: .*; TABLE_SETTINGS: /,
    );
  });

  it('says when PROVIDERS is not JSON, and which field of it is wrong', () => {
    expect(() => ingestConfig({ ...INGEST, PROVIDERS: '{' })).toThrow(
      'Invalid function environment: PROVIDERS is not JSON',
    );
    expect(() =>
      ingestConfig({ ...INGEST, PROVIDERS: JSON.stringify({ providers: [{ id: 'Bad Id', type: 'ses' }], chain: [] }) }),
    ).toThrow(/Invalid function environment: PROVIDERS\.providers\.0\.id: /);
  });

  it('reports a missing table before a bad PROVIDERS (the providers are read once the rest is valid)', () => {
    expect(() => ingestConfig({ ...INGEST, TABLE_MESSAGES: undefined, PROVIDERS: '{' })).toThrow(/TABLE_MESSAGES: /);
  });
});

describe('dispatchConfig', () => {
  it('maps the variables into the config object, with the defaults of core/defaults.ts', () => {
    expect(dispatchConfig(DISPATCH)).toEqual({
      tables: {
        messages: 'messages',
        suppression: 'suppression',
        cooldowns: 'cooldowns',
        settings: 'settings',
        rateWindows: 'rate-windows',
        reputation: 'reputation',
      },
      heldWaitSeconds: DEFAULTS.guard.heldWaitSeconds,
      contentBucket: 'content',
      providers: DEFAULT_PROVIDERS,
      sendQueueUrl: QUEUE,
      sendQueues: [
        { url: CRITICAL, maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount },
        { url: QUEUE, maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount },
        { url: BULK, maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount },
      ],
      timeoutSeconds: DEFAULTS.dispatch.timeoutSeconds,
      maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount,
      signingKeysSecret: 'signing-keys',
      publicBaseUrl: 'https://mail.example.com',
      trackDefaults: { opens: true, clicks: true },
      bulkReserve: DEFAULTS.capacity.bulkReservePercent / 100,
    });
    expect(DEFAULTS.tracking).toEqual({ opens: true, clicks: true });
  });

  it('leaves sesConfigurationSet out when it is unset, and takes it when set', () => {
    expect('sesConfigurationSet' in dispatchConfig(DISPATCH)).toBe(false);
    expect(dispatchConfig({ ...DISPATCH, SES_CONFIGURATION_SET: 'mailroute' }).sesConfigurationSet).toBe('mailroute');
  });

  it('reads the tracking flags, the timeout and the max receive count', () => {
    const config = dispatchConfig({
      ...DISPATCH,
      TRACK_OPENS: 'false',
      TRACK_CLICKS: 'true',
      DISPATCH_TIMEOUT_SECONDS: '45',
      SEND_MAX_RECEIVE_COUNT: '8',
    });
    expect(config.trackDefaults).toEqual({ opens: false, clicks: true });
    expect(config.timeoutSeconds).toBe(45);
    expect(config.maxReceiveCount).toBe(8);
  });

  it("reads each send queue's own dead-letter queue and maxReceiveCount (critical, transactional, bulk)", () => {
    const config = dispatchConfig({
      ...DISPATCH,
      QUEUE_SEND_CRITICAL_DLQ_URL: `${CRITICAL}-dlq`,
      QUEUE_SEND_DLQ_URL: `${QUEUE}-dlq`,
      QUEUE_SEND_BULK_DLQ_URL: `${BULK}-dlq`,
      SEND_CRITICAL_MAX_RECEIVE_COUNT: '9',
      SEND_MAX_RECEIVE_COUNT: '5',
      SEND_BULK_MAX_RECEIVE_COUNT: '3',
    });
    expect(config.sendQueues).toEqual([
      { url: CRITICAL, deadLetterUrl: `${CRITICAL}-dlq`, maxReceiveCount: 9 },
      { url: QUEUE, deadLetterUrl: `${QUEUE}-dlq`, maxReceiveCount: 5 },
      { url: BULK, deadLetterUrl: `${BULK}-dlq`, maxReceiveCount: 3 },
    ]);
  });

  it.each(['QUEUE_SEND_CRITICAL_URL', 'QUEUE_SEND_BULK_URL'])(
    'refuses an environment without the %s of a priority queue (ingest and dispatch)',
    (variable) => {
      expect(() => dispatchConfig({ ...DISPATCH, [variable]: undefined })).toThrow(new RegExp(`${variable}: `));
      expect(() => ingestConfig({ ...INGEST, [variable]: undefined })).toThrow(new RegExp(`${variable}: `));
    },
  );

  it.each([
    [{ ...DISPATCH, TRACK_OPENS: 'yes' }, /TRACK_OPENS: /],
    [{ ...DISPATCH, TRACK_CLICKS: 'TRUE' }, /TRACK_CLICKS: /],
    [{ ...DISPATCH, PUBLIC_BASE_URL: 'mail.example.com' }, /PUBLIC_BASE_URL: /],
    [{ ...DISPATCH, SIGNING_KEYS_SECRET: '' }, /SIGNING_KEYS_SECRET: /],
    [{ ...DISPATCH, SEND_MAX_RECEIVE_COUNT: '-1' }, /SEND_MAX_RECEIVE_COUNT: /],
    [{ ...DISPATCH, SEND_BULK_MAX_RECEIVE_COUNT: '0' }, /SEND_BULK_MAX_RECEIVE_COUNT: /],
  ])('names the variable that is wrong (%#)', (env, field) => {
    expect(() => dispatchConfig(env)).toThrow(field);
  });

  it('has a type inferred from its schema, with the shape the wiring uses', () => {
    expectTypeOf<DispatchConfig['trackDefaults']>().toEqualTypeOf<{ opens: boolean; clicks: boolean }>();
    expectTypeOf<DispatchConfig['providers']>().toEqualTypeOf<ChainConfig>();
    expectTypeOf<DispatchConfig['sesConfigurationSet']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<DispatchConfig['timeoutSeconds']>().toEqualTypeOf<number>();
  });
});

describe('sesEventsConfig', () => {
  const env = {
    TABLE_MESSAGES: 'messages',
    TABLE_SUPPRESSION: 'suppression',
    TABLE_REPUTATION: 'reputation',
    TABLE_TEMPLATES: 'templates',
  };

  it('takes the soft-bounce defaults of core/defaults.ts (3 within 72 hours)', () => {
    expect(sesEventsConfig(env)).toEqual({
      tables: { messages: 'messages', suppression: 'suppression', reputation: 'reputation', templates: 'templates' },
      softBounce: DEFAULTS.softBounce,
      guard: {
        windowHours: DEFAULTS.guard.windowHours,
        minVolume: DEFAULTS.guard.minVolume,
        bounce: DEFAULTS.guard.bounce,
        complaint: DEFAULTS.guard.complaint,
      },
    });
    expect(DEFAULTS.softBounce).toEqual({ limit: 3, windowHours: 72 });
  });

  it('reads the soft-bounce settings, naming a wrong one', () => {
    expect(sesEventsConfig({ ...env, SOFT_BOUNCE_LIMIT: '5', SOFT_BOUNCE_WINDOW_HOURS: '24' }).softBounce).toEqual({
      limit: 5,
      windowHours: 24,
    });
    expect(() => sesEventsConfig({ ...env, SOFT_BOUNCE_WINDOW_HOURS: 'x' })).toThrow(/SOFT_BOUNCE_WINDOW_HOURS: /);
  });
});

describe('trackingConfig', () => {
  it('maps the variables into the config object, naming a missing one', () => {
    expect(
      trackingConfig({ TABLE_MESSAGES: 'messages', TABLE_SUPPRESSION: 'suppression', SIGNING_KEYS_SECRET: 'keys' }),
    ).toEqual({ tables: { messages: 'messages', suppression: 'suppression' }, signingKeysSecret: 'keys' });
    expect(() => trackingConfig({ TABLE_MESSAGES: 'messages', TABLE_SUPPRESSION: 'suppression' })).toThrow(
      /Invalid function environment: SIGNING_KEYS_SECRET: /,
    );
  });
});

describe('the reputation guard variables', () => {
  const env = {
    TABLE_MESSAGES: 'messages',
    TABLE_SUPPRESSION: 'suppression',
    TABLE_REPUTATION: 'reputation',
    TABLE_TEMPLATES: 'templates',
  };

  it('defaults to bounces 4 % / 8 % and complaints 0.08 % / 0.3 % over 24 hours with 500 sends', () => {
    expect(DEFAULTS.guard).toEqual({
      windowHours: 24,
      minVolume: 500,
      bounce: { warnPercent: 4, pausePercent: 8 },
      complaint: { warnPercent: 0.08, pausePercent: 0.3 },
      heldWaitSeconds: 300,
    });
  });

  it('reads the window, minimum volume and thresholds (fractions of a percent too)', () => {
    const config = sesEventsConfig({
      ...env,
      GUARD_WINDOW_HOURS: '6',
      GUARD_MIN_VOLUME: '50',
      GUARD_BOUNCE_WARN_PERCENT: '2.5',
      GUARD_BOUNCE_PAUSE_PERCENT: '5',
      GUARD_COMPLAINT_WARN_PERCENT: '0.05',
      GUARD_COMPLAINT_PAUSE_PERCENT: '0.1',
    });
    expect(config.guard).toEqual({
      windowHours: 6,
      minVolume: 50,
      bounce: { warnPercent: 2.5, pausePercent: 5 },
      complaint: { warnPercent: 0.05, pausePercent: 0.1 },
    });
    expect(ingestConfig({ ...INGEST, GUARD_MIN_VOLUME: '7' }).guard.minVolume).toBe(7);
    expect(dispatchConfig({ ...DISPATCH, GUARD_HELD_WAIT_SECONDS: '2' }).heldWaitSeconds).toBe(2);
  });

  it.each([
    [{ GUARD_BOUNCE_PAUSE_PERCENT: '0' }, /GUARD_BOUNCE_PAUSE_PERCENT: /],
    [{ GUARD_COMPLAINT_WARN_PERCENT: '101' }, /GUARD_COMPLAINT_WARN_PERCENT: /],
    [{ GUARD_MIN_VOLUME: '0' }, /GUARD_MIN_VOLUME: /],
    [{ TABLE_REPUTATION: '' }, /TABLE_REPUTATION: /],
  ])('names the variable that is wrong (%#)', (bad, field) => {
    expect(() => sesEventsConfig({ ...env, ...bad })).toThrow(field);
  });

  it('keeps a held email waiting at most as long as SQS can delay it', () => {
    expect(() => dispatchConfig({ ...DISPATCH, GUARD_HELD_WAIT_SECONDS: '901' })).toThrow(/GUARD_HELD_WAIT_SECONDS: /);
  });
});
