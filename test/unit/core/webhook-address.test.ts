import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isBlockedAddress } from '../../../functions/core/webhook-address';

const aws = { allowPrivate: false };
const local = { allowPrivate: true };

describe('webhook URLs in AWS', () => {
  it.each([
    'http://example.com/hook',
    'https://127.0.0.1/hook',
    'https://10.1.2.3/hook',
    'https://172.20.0.1/hook',
    'https://192.168.1.1/hook',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hook',
    'https://[fd00:ec2::254]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://localhost/hook',
    'https://api.localhost/hook',
    'https://metadata.google.internal/x',
    'https://user:pass@example.com/hook',
    'not a url',
  ])('refuses %s', (url) => {
    expect(checkWebhookUrl(url, aws).ok).toBe(false);
  });

  it('accepts a public https URL', () => {
    expect(checkWebhookUrl('https://hooks.example.com/mailroute?x=1', aws).ok).toBe(true);
  });

  it('locally, allows http and loopback receivers', () => {
    expect(checkWebhookUrl('http://127.0.0.1:4000/hooks', local).ok).toBe(true);
    expect(checkWebhookUrl('ftp://127.0.0.1/hooks', local).ok).toBe(false);
  });
});

describe('addresses a host may resolve to', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.8',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
  ])('%s is refused', (a) => expect(isBlockedAddress(a)).toBe(true));
  it.each(['93.184.215.14', '::ffff:93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'])('%s is public', (a) =>
    expect(isBlockedAddress(a)).toBe(false),
  );
});
