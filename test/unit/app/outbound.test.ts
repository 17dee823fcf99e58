/** Outbound preparation: recipients, the unsubscribe header and tracked HTML, and one key read per batch. */
import { describe, expect, it } from 'vitest';
import { outboundPreparer } from '../../../functions/app/outbound';
import { SendEmailBody, toQueuedEmail } from '../../../functions/core/email';
import { recipientsOf } from '../../../functions/core/recipients';
import { verify } from '../../../functions/core/signing';
import type { SigningKeys } from '../../../functions/ports';
import { BASE_URL, KEYRING, NOW } from '../../support/dispatch';

const email = (id: string, input: Record<string, unknown> = {}) =>
  toQueuedEmail(
    id,
    SendEmailBody.parse({ from: 'app@example.com', to: 'user@example.org', subject: 'Hi', text: 'x', ...input }),
  );

/** Signing keys that count their reads. */
function countingKeys(): SigningKeys & { reads: number } {
  const keys = {
    reads: 0,
    keyring: async () => {
      keys.reads += 1;
      return KEYRING;
    },
  };
  return keys;
}

const preparer = (keys: SigningKeys, track = { opens: true, clicks: true }) =>
  outboundPreparer({ links: { baseUrl: BASE_URL, keys }, trackDefaults: track }, () => NOW);

describe('outboundPreparer', () => {
  it('sends to the recipients left, and keeps the rest of the email as queued', async () => {
    const q = email('a', { to: ['user@example.org'], bcc: ['gone@example.org'] });
    const out = await preparer(countingKeys())(q, recipientsOf(q, new Set(['gone@example.org|*'])));
    expect(out).toEqual({ ...q, to: ['user@example.org'], cc: [], bcc: [] });
  });

  it('reads the signing keys once for a batch, and not at all when no email needs them', async () => {
    const keys = countingKeys();
    const prepare = preparer(keys);
    const plain = email('p');
    await prepare(plain, recipientsOf(plain, new Set()));
    expect(keys.reads).toBe(0);
    for (const id of ['a', 'b', 'c']) {
      const q = email(id, { category: 'newsletter', html: '<a href="https://x.example/">x</a>' });
      await prepare(q, recipientsOf(q, new Set()));
    }
    expect(keys.reads).toBe(1);
  });

  it('signs each email its own unsubscribe link and tracking tokens, dated at the send', async () => {
    const prepare = preparer(countingKeys());
    const outs = await Promise.all(
      ['a', 'b'].map((id) => {
        const q = email(id, { category: 'newsletter', html: '<p><a href="https://shop.example/">Shop</a></p>' });
        return prepare(q, recipientsOf(q, new Set()));
      }),
    );
    for (const [i, out] of outs.entries()) {
      const id = ['a', 'b'][i];
      const unsubscribe = /\/u\/([^>]+)>$/.exec(out.headers['List-Unsubscribe'] ?? '')?.[1] ?? '';
      expect(verify(unsubscribe, KEYRING)).toEqual({ a: 'user@example.org', c: 'newsletter', m: id });
      const click = /\/c\/([^"]+)"/.exec(out.html ?? '')?.[1] ?? '';
      expect(verify(click, KEYRING)).toEqual({ k: 'c', m: id, i: 0, u: 'https://shop.example/', s: NOW / 1000 });
      const pixel = /\/o\/([^"]+)"/.exec(out.html ?? '')?.[1] ?? '';
      expect(verify(pixel, KEYRING)).toEqual({ k: 'o', m: id, s: NOW / 1000 });
    }
  });

  it("leaves mailroute's own links alone", async () => {
    const html = `<a href="${BASE_URL}/u/TOKEN">unsubscribe</a>`;
    const q = email('a', { html, track: { opens: false } });
    expect((await preparer(countingKeys())(q, recipientsOf(q, new Set()))).html).toBe(html);
  });
});
