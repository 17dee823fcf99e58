/**
 * Set-up for the integration tier: the browser test needs Debian's Chromium (npm's browser
 * downloads cannot be fetched here). Installs it with apt-get when it is missing, as root, once.
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default function setup() {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Chromium is needed at ${CHROMIUM} for the browser test: run "sudo apt-get install -y chromium"`);
  }
  process.stdout.write('Installing Debian chromium for the browser test (once)…\n');
  execSync('apt-get update -qq && apt-get install -y -qq chromium', {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
