/**
 * Lakala's open platform as a provider module: the card route (bank-card returns), its settings.
 * It posts no notices for these returns: the return query follows each one (PROVIDER_POLL_INTERVAL).
 */
import type { ProviderModule } from '../provider-module';
import { LakalaProvider } from './lakala-provider';
import { LAKALA_ENV, type LakalaSettings } from './lakala-settings';

export const lakala: ProviderModule<LakalaSettings, LakalaProvider> = {
  adapter: 'lakala',
  routes: ['card'],
  label: 'Lakala',
  settings: LAKALA_ENV,
  secretSettings: ['LAKALA_PRIVATE_KEY', 'LAKALA_CERTIFICATE'],
  create: (settings) => new LakalaProvider(settings),
};
