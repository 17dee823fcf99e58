/**
 * The partition keys behind each `ItemKeySet` of the spec (lib/spec.ts), built with the key builders
 * the stores use, for the deployment's provider definitions.
 */
import type { ProvidersConfig } from '../../functions/core/providers';
import { LIVE_PK } from '../../functions/store/provider-settings';
import type { ItemKeySet } from '../spec';
import { dispatchRateWindowKeys, dispatchSettingsKeys } from './providers';

export function itemKeys(set: ItemKeySet, providers: ProvidersConfig): string[] {
  switch (set) {
    case 'liveProviderSettings':
      return [LIVE_PK];
    case 'providerSettingsAndHealth':
      return dispatchSettingsKeys(providers);
    case 'providerRateWindows':
      return dispatchRateWindowKeys(providers);
  }
}
