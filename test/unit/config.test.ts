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

const INGEST = {
  TABLE_MESSAGES: 'messages',
  TABLE_IDEMPOTENCY: 'idempotency',
  TABLE_SETTINGS: 'settings',
  TABLE_SUPPRESSION: 'suppression',
  TABLE_RATE_WINDOWS: 'rate-windows',
  TABLE_TEMPLATES: 'templates',
  QUEUE_SEND_URL: QUEUE,
};

const DISPATCH = {
  TABLE_MESSAGES: 'messages',
  TABLE_SUPPRESSION: 'suppression',
  TABLE_SETTINGS: 'settings',
  TABLE_RATE_WINDOWS: 'rate-windows',
  QUEUE_SEND_URL: QUEUE,
  SIGNING_KEYS_SECRET: 'signing-keys',
  PUBLIC_BASE_URL: 'https://mail.example.com',
};

describe('ingestConfig', () => {
  it('maps the variables into the config object, with the defaults of core/defaults.ts', () => {
    expect(ingestConfig(INGEST)).toEqual({
      tables: {
        messages: 'messages',
        idempotency: 'idempotency',
        settings: 'settings',
        suppression: 'suppression',
        rateWindows: 'rate-windows',
        templates: 'templates',
      },
      sendQueueUrl: QUEUE,
      retentionDays: DEFAULTS.retentionDays,
      providers: DEFAULT_PROVIDERS,
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
      tables: { messages: 'messages', suppression: 'suppression', settings: 'settings', rateWindows: 'rate-windows' },
      providers: DEFAULT_PROVIDERS,
      sendQueueUrl: QUEUE,
      timeoutSeconds: DEFAULTS.dispatch.timeoutSeconds,
      maxReceiveCount: DEFAULTS.sendQueue.maxReceiveCount,
      signingKeysSecret: 'signing-keys',
      publicBaseUrl: 'https://mail.example.com',
      trackDefaults: { opens: true, clicks: true },
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

  it.each([
    [{ ...DISPATCH, TRACK_OPENS: 'yes' }, /TRACK_OPENS: /],
    [{ ...DISPATCH, TRACK_CLICKS: 'TRUE' }, /TRACK_CLICKS: /],
    [{ ...DISPATCH, PUBLIC_BASE_URL: 'mail.example.com' }, /PUBLIC_BASE_URL: /],
    [{ ...DISPATCH, SIGNING_KEYS_SECRET: '' }, /SIGNING_KEYS_SECRET: /],
    [{ ...DISPATCH, SEND_MAX_RECEIVE_COUNT: '-1' }, /SEND_MAX_RECEIVE_COUNT: /],
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
  const env = { TABLE_MESSAGES: 'messages', TABLE_SUPPRESSION: 'suppression', TABLE_TEMPLATES: 'templates' };

  it('takes the soft-bounce defaults of core/defaults.ts (3 within 72 hours)', () => {
    expect(sesEventsConfig(env)).toEqual({
      tables: { messages: 'messages', suppression: 'suppression', templates: 'templates' },
      softBounce: DEFAULTS.softBounce,
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
