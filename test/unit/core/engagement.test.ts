import { describe, expect, it } from 'vitest';
import { machineClick, machineOpen } from '../../../functions/core/engagement';

const chrome =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const hit = (over: Partial<Parameters<typeof machineOpen>[0]> = {}) => ({
  userAgent: chrome,
  method: 'GET',
  atSeconds: 1_000_000,
  sentSeconds: 1_000_000 - 3600,
  ...over,
});

describe('machine opens', () => {
  it('counts a person reading in a browser or mail app', () => {
    expect(machineOpen(hit())).toBeUndefined();
  });

  it.each([
    ['Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', 'image proxy'],
    ['Mozilla/5.0', 'privacy relay'],
    ['YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', 'image proxy'],
    ['', 'no user agent'],
  ])('flags %j as %s', (userAgent, reason) => {
    expect(machineOpen(hit({ userAgent }))).toBe(reason);
  });
});

describe('machine clicks', () => {
  it('counts a person clicking a while after the email arrived', () => {
    expect(machineClick(hit())).toBeUndefined();
  });

  it('flags HEAD requests, scanners and scripts', () => {
    expect(machineClick(hit({ method: 'HEAD' }))).toBe('HEAD request');
    for (const ua of [
      'Mozilla/5.0 (compatible; Barracuda Sentinel)',
      'Proofpoint URL Defense',
      'python-requests/2.31',
      'curl/8.5.0',
      'Mozilla/5.0 HeadlessChrome/120',
    ]) {
      expect(machineClick(hit({ userAgent: ua }))).toBe('link scanner');
    }
  });

  it('flags clicks within seconds of sending', () => {
    expect(machineClick(hit({ sentSeconds: 1_000_000 - 3 }))).toBe('clicked within seconds of sending');
    expect(machineClick(hit({ sentSeconds: 1_000_000 - 30 }))).toBeUndefined();
  });
});
