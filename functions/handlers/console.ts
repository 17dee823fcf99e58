import { createConsoleHandler } from '../app/console';
import { parseConsoleAssets } from '../app/console-assets';
import { consoleConfig } from '../config';
import { awsConsoleDeps } from './console-wiring';

/** The console's page, script and style sheet, built at synth time and written into this bundle (lib/console-assets.ts). */
declare const MAILROUTE_CONSOLE_ASSETS: string;

/** API Gateway → the operator console's page and the admin queue routes. */
export const handler = createConsoleHandler(
  awsConsoleDeps(consoleConfig(), parseConsoleAssets(MAILROUTE_CONSOLE_ASSETS)),
);
