import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '../../bin/local-stack';
import { MACHINE_CLICK_WINDOW_SECONDS } from '../../functions/core/engagement';
import { launchChromium } from '../support/console-browser';
import { api, eventually, inbox, statusOf, useLocalStack } from '../support/local';

/** A person's desktop browser (headless Chromium announces itself, which the rules treat as a scanner). */
const DESKTOP_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let stack: LocalStack;
let browser: Browser;
let landing: Server;
let landingUrl: string;
const landingHits: string[] = [];

useLocalStack((s) => {
  stack = s;
});

beforeAll(async () => {
  browser = await launchChromium();
  landing = createServer((req, res) => {
    if (req.url !== '/favicon.ico') landingHits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Landing</title><h1>You made it</h1>');
  });
  await new Promise<void>((r) => landing.listen(0, '127.0.0.1', r));
  landingUrl = `http://127.0.0.1:${(landing.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => landing?.close(r));
});

it('an email viewed in a browser records one open; its link lands on the page and records one click; a tampered link does not redirect', async () => {
  const target = `${landingUrl}/offer?id=7&ref=mail#details`;
  const html = `<!doctype html><html><head><title>Offer</title></head><body><p>Hello</p><p><a id="go" href="${target.replace('&', '&amp;')}">See the offer</a></p></body></html>`;
  const sent = await api(stack, 'POST', '/v1/emails', {
    from: 'shop@example.com',
    to: 'reader@example.org',
    subject: 'browser-1',
    html,
  });
  expect(sent.status).toBe(202);
  const view = await statusOf(stack, sent.body.id, 'sent');
  const sentAt = Date.parse(view.updatedAt);
  const email = (await inbox(stack)).find((e) => e.subject === 'browser-1');
  const delivered = email?.body.html ?? '';
  expect(delivered).toMatch(new RegExp(`<img src="${stack.apiUrl}/o/[^"]+"`));

  const context = await browser.newContext({ userAgent: DESKTOP_UA });
  const page = await context.newPage();
  // Opening the email: the mail client renders its HTML, which fetches the pixel.
  await page.setContent(delivered, { waitUntil: 'load' });
  const opened = await eventually(async () => {
    const v = await api(stack, 'GET', `/v1/emails/${sent.body.id}`);
    return v.body.engagement.opens === 1 ? v.body : undefined;
  }, 'the open to be recorded');
  expect(opened.engagement).toMatchObject({ opens: 1, machineOpens: 0, firstOpenAt: expect.any(String) });

  // A person reads before clicking: wait past the window in which clicks count as a scanner's.
  const wait = sentAt + (MACHINE_CLICK_WINDOW_SECONDS + 1) * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const href = await page.getAttribute('#go', 'href');
  expect(href).toMatch(new RegExp(`^${stack.apiUrl}/c/`));
  await Promise.all([page.waitForURL(`${landingUrl}/**`), page.click('#go')]);
  expect(page.url()).toBe(target);
  expect(landingHits).toEqual(['/offer?id=7&ref=mail']);
  const clicked = await eventually(async () => {
    const v = await api(stack, 'GET', `/v1/emails/${sent.body.id}`);
    return v.body.engagement.clicks === 1 ? v.body : undefined;
  }, 'the click to be recorded');
  expect(clicked.engagement).toMatchObject({ opens: 1, clicks: 1, machineClicks: 0 });
  expect(clicked.events.find((e: { type: string }) => e.type === 'clicked')?.detail).toMatchObject({
    index: 0,
    url: target,
  });

  // Any changed character: a 400 page, never the redirect.
  const url = href ?? '';
  const i = url.length - 10;
  const tampered = `${url.slice(0, i)}${url[i] === 'A' ? 'B' : 'A'}${url.slice(i + 1)}`;
  const response = await page.goto(tampered);
  expect(response?.status()).toBe(400);
  expect(page.url()).toBe(tampered);
  expect(landingHits).toHaveLength(1);
  await context.close();
});
