/**
 * The partition keys behind each `ItemKeySet` of the spec (lib/spec.ts), built with the key builders
 * the stores use, for the deployment's provider definitions.
 */

import {
  apiKeyKey,
  LIVE_SETTINGS_KEY,
  REQUEST_COUNTER_PREFIX,
  reputationCountsPattern,
  streamStateKey,
} from '../../functions/core/keys';
import { PRIORITIES } from '../../functions/core/priority';
import type { ProvidersConfig } from '../../functions/core/providers';
import type { ItemKeySet } from '../spec';
import { dispatchRateWindowKeys, dispatchSettingsKeys } from './providers';

export function itemKeys(set: ItemKeySet, providers: ProvidersConfig): string[] {
  switch (set) {
    case 'apiKeys':
      return [apiKeyKey('*')];
    case 'liveProviderSettings':
      return [LIVE_SETTINGS_KEY];
    case 'providerSettingsAndHealth':
      return dispatchSettingsKeys(providers);
    case 'providerRateWindows':
      return dispatchRateWindowKeys(providers);
    case 'reputationStreamsAndCounts':
      return PRIORITIES.flatMap((p) => [streamStateKey(p), reputationCountsPattern(p)]);
    case 'apiRequestCounters':
      return [`${REQUEST_COUNTER_PREFIX}*`];
    case 'everyItem':
      return ['*'];
  }
}
