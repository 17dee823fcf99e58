import { describe, expect, it } from 'vitest';
import { formatMailbox, normaliseAddress, parseMailbox } from '../../../functions/core/address';
import { addressKey } from '../../../functions/core/address-key';
import { addressOf } from '../../../functions/core/queued-email';

const ACCEPTED = [
  'jane@example.org',
  'Jane.Doe+tag@Example.ORG',
  '"Doe, Jane" <Jane@Example.org>',
  'user@bücher.example',
  'USER@BÜCHER.example',
  'ops@xn--bcher-kva.example',
  '"quoted local"@example.com',
  'a@sub.domain-with-dash.example',
];

describe('addressKey', () => {
  it('gives an accepted address, as queued, the key the API gives the address as written', () => {
    for (const written of ACCEPTED) {
      const parsed = parseMailbox(written);
      if (!parsed.ok) throw new Error(`${written}: ${parsed.message}`);
      const queued = formatMailbox(parsed.value);
      expect(addressKey(addressOf(queued)), written).toBe(normaliseAddress(parsed.value.address));
    }
  });

  it('case-folds an address SES reports, and converts a domain that is not ASCII yet', () => {
    expect(addressKey(' Jane@Example.ORG ')).toBe('jane@example.org');
    expect(addressKey('user@bücher.example')).toBe('user@xn--bcher-kva.example');
  });
});
