/**
 * `tsx bin/console-screenshot.ts [docs/console.png]`: the README's picture of the console. Starts the
 * local stack on free ports, sends two emails, signs in with the local key and photographs one email's
 * page next to the menu, in headless Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { chromium } from 'playwright-core';
import { startLocalStack } from './local-stack';

const out = process.argv[2] ?? 'docs/console.png';
const stack = await startLocalStack({ apiPort: 0, sesPort: 0, awsPort: 0, dynamodbPort: 0, seedTemplates: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const send = async (subject: string) => {
    const res = await fetch(`${stack.apiUrl}/v1/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'app@example.com',
        to: 'jane@example.org',
        subject,
        text: 'Hello',
        tags: { flow: 'welcome' },
      }),
    });
    return ((await res.json()) as { id: string }).id;
  };
  await send('Your receipt');
  const id = await send('Welcome to Acme');
  const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
  await page.goto(`${stack.apiUrl}/console`);
  await page.getByLabel('API key').fill(stack.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link').first().waitFor();
  await page.evaluate((email) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = `#/messages/${email}`;
  }, id);
  await page.locator('[data-status="sent"], [data-status="delivered"]').waitFor({ timeout: 20_000 });
  await page.screenshot({ path: out, fullPage: false });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await browser.close();
  await stack.stop();
}
