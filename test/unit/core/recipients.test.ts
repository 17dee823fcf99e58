import { describe, expect, it } from 'vitest';
import { noneLeft, recipientKey, recipientsOf, suppressionKeys } from '../../../functions/core/recipients';

const email = (to: string[], more: { cc?: string[]; bcc?: string[]; category?: string } = {}) => ({
  to,
  cc: more.cc ?? [],
  bcc: more.bcc ?? [],
  category: more.category ?? 'transactional',
});

describe('recipientKey', () => {
  it('is the normalised bare address (lower case, punycode domain)', () => {
    expect(recipientKey('"Jane" <Jane@Example.ORG>')).toBe('jane@example.org');
    expect(recipientKey('user@bücher.example')).toBe('user@xn--bcher-kva.example');
  });
});

describe('suppressionKeys', () => {
  it('asks for every recipient in every scope that can stop its mail', () => {
    expect(suppressionKeys([email(['a@example.org'], { cc: ['b@example.org'] })])).toEqual([
      { address: 'a@example.org', scope: '*' },
      { address: 'b@example.org', scope: '*' },
    ]);
    expect(suppressionKeys([email(['a@example.org'], { category: 'newsletter' })])).toEqual([
      { address: 'a@example.org', scope: '*' },
      { address: 'a@example.org', scope: 'newsletter' },
    ]);
  });
});

describe('recipientsOf', () => {
  it('drops only the suppressed recipients, keeping the order and the formatted addresses', () => {
    const suppressed = new Set(['gone@example.org|*']);
    const r = recipientsOf(
      email(['"Keep" <keep@example.org>', 'Gone@Example.org'], { bcc: ['"Gone" <gone@example.org>'] }),
      suppressed,
    );
    expect(r).toEqual({
      to: ['"Keep" <keep@example.org>'],
      cc: [],
      bcc: [],
      dropped: ['Gone@Example.org', 'gone@example.org'],
    });
    expect(noneLeft(r)).toBe(false);
  });

  it('a category unsubscribe stops that category only, never transactional mail', () => {
    const suppressed = new Set(['user@example.org|newsletter']);
    expect(noneLeft(recipientsOf(email(['user@example.org'], { category: 'newsletter' }), suppressed))).toBe(true);
    expect(noneLeft(recipientsOf(email(['user@example.org'], { category: 'promotions' }), suppressed))).toBe(false);
    expect(noneLeft(recipientsOf(email(['user@example.org']), suppressed))).toBe(false);
  });
});
