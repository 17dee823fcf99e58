import { describe, expect, it } from 'vitest';
import {
  API_KEY_PREFIX,
  apiKeyKey,
  LIVE_SETTINGS_KEY,
  providerHealthKey,
  providerWindowKey,
  requestCounterKey,
  SOFT_BOUNCE_SCOPE_PREFIX,
  softBounceScope,
} from '../../../functions/core/keys';
import { PROVIDER_ID } from '../../../functions/core/providers';

describe('key formats', () => {
  // Items already stored under these keys must stay readable: the formats are data, not details.
  it('keeps the stored formats of the settings table', () => {
    expect(LIVE_SETTINGS_KEY).toBe('settings#providers');
    expect(providerHealthKey('ses')).toBe('health#ses');
    expect(apiKeyKey('0123abcd')).toBe('apikey#0123abcd');
    expect(apiKeyKey('0123abcd').startsWith(API_KEY_PREFIX)).toBe(true);
  });

  it('keeps the stored formats of the rate-windows table', () => {
    expect(providerWindowKey('azure-eu')).toBe('provider#azure-eu');
    expect(requestCounterKey('billing', 1_767_225_600)).toBe('api#billing#1767225600');
  });

  it('keeps the stored format of soft-bounce scopes in the suppression table', () => {
    expect(softBounceScope('0100018f-feedback')).toBe('#soft#0100018f-feedback');
    expect(softBounceScope('x').startsWith(SOFT_BOUNCE_SCOPE_PREFIX)).toBe(true);
  });

  it('never lets one kind of key look like another', () => {
    const id = 'settings';
    const keys = [
      LIVE_SETTINGS_KEY,
      providerHealthKey(id),
      apiKeyKey(id),
      providerWindowKey(id),
      requestCounterKey(id, 1),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(providerHealthKey('providers')).not.toBe(LIVE_SETTINGS_KEY);
  });

  // The IAM conditions are StringLike patterns built with these functions: a provider id with `*` or
  // `?` would widen the dispatcher's access beyond its own items. The id schema forbids them.
  it.each(['*', 'ses*', 'a?c', 'ses#1', 'Ses'])(
    'has no valid provider id %j that is an IAM wildcard or a key separator',
    (id) => {
      expect(PROVIDER_ID.test(id)).toBe(false);
    },
  );

  it('builds, from every valid provider id, keys without IAM wildcard characters', () => {
    for (const id of ['ses', 'azure-eu', 'relay_2', '0']) {
      expect(PROVIDER_ID.test(id)).toBe(true);
      for (const key of [providerHealthKey(id), providerWindowKey(id)]) expect(key).not.toMatch(/[*?]/);
    }
  });
});
