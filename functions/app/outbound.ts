/**
 * Outbound preparation: the email a provider is given, from the queued one. The suppressed
 * recipients are left out; non-transactional mail gets a signed one-click unsubscribe link
 * (RFC 8058); HTML mail gets signed click-tracking links and an open pixel, as the message and
 * the deployment ask (tracking changes only the links it tracks, DESIGN §2.7).
 *
 * One preparer serves one batch: the signing keys are read once per batch, and only when an email
 * of it needs them; HTML is parsed once per batch for every email that shares it (a newsletter's
 * batch), each email getting its own signed links written into the same plan. The HTML parser
 * (parse5, most of the dispatcher's bundle) is loaded with the first tracked HTML email, not at cold
 * start.
 */
import type { TrackingPlan } from '../core/html-tracking';
import { TRANSACTIONAL } from '../core/message';
import type { QueuedEmail } from '../core/queued-email';
import { type Recipients, recipientKey } from '../core/recipients';
import { type Keyring, sign } from '../core/signing';
import type { OutboundEmail, SigningKeys } from '../ports';

type HtmlTracking = typeof import('../core/html-tracking');
let loading: Promise<HtmlTracking> | undefined;
/** The HTML rewriter and its parser, loaded once per process when the first tracked HTML email needs them. */
const htmlTracking = (): Promise<HtmlTracking> =>
  (loading ??= import('../core/html-tracking').catch((error: unknown) => {
    loading = undefined; // the next email tries again
    throw error;
  }));

export interface OutboundDeps {
  /** Signs the links written into emails: one-click unsubscribe (RFC 8058), click tracking, open pixel. */
  readonly links: { readonly baseUrl: string; readonly keys: SigningKeys };
  /** Whether HTML mail is tracked when its request did not say. */
  readonly trackDefaults: { readonly opens: boolean; readonly clicks: boolean };
}

export type PrepareOutbound = (email: QueuedEmail, recipients: Recipients) => Promise<OutboundEmail>;

/** A preparer for the emails of one batch. `now` dates the tracking tokens (the send time). */
export function outboundPreparer(deps: OutboundDeps, now: () => number): PrepareOutbound {
  const base = deps.links.baseUrl;
  const own = `${base}/`;
  let ring: Promise<Keyring> | undefined;
  // Read once per batch; a failed read fails this batch's emails that need the keys, the next batch reads again.
  const keyring = () => (ring ??= deps.links.keys.keyring());
  // Where tracking edits each distinct HTML of the batch (a plan depends on the HTML alone).
  const plans = new Map<string, TrackingPlan>();
  const planOf = (html: string, tracking: HtmlTracking): TrackingPlan => {
    let plan = plans.get(html);
    if (!plan) {
      plan = tracking.planTracking(html);
      plans.set(html, plan);
    }
    return plan;
  };

  /** Non-transactional mail (one recipient, enforced by the API) gets a signed one-click unsubscribe link. */
  async function withUnsubscribe(email: QueuedEmail): Promise<Record<string, string>> {
    const recipient = email.to[0];
    if (email.category === TRANSACTIONAL || !recipient) return email.headers;
    const token = sign({ a: recipientKey(recipient), c: email.category, m: email.id }, await keyring());
    return {
      ...email.headers,
      'List-Unsubscribe': `<${base}/u/${token}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
  }

  /** The tokens carry the send time, which the machine-event rules compare hits against. */
  async function tracked(email: QueuedEmail, html: string): Promise<string> {
    const opens = email.track?.opens ?? deps.trackDefaults.opens;
    const clicks = email.track?.clicks ?? deps.trackDefaults.clicks;
    if (!opens && !clicks) return html;
    const [ring, tracking] = await Promise.all([keyring(), htmlTracking()]);
    const s = Math.floor(now() / 1000);
    return tracking.applyTracking(html, planOf(html, tracking), {
      ...(opens ? { pixelUrl: `${base}/o/${sign({ k: 'o', m: email.id, s }, ring)}` } : {}),
      ...(clicks
        ? {
            // mailroute's own links (unsubscribe, already tracked) stay as they are.
            clickUrl: (i: number, u: string) =>
              u.startsWith(own) ? undefined : `${base}/c/${sign({ k: 'c', m: email.id, i, u, s }, ring)}`,
          }
        : {}),
    }).html;
  }

  return async (email, recipients) => ({
    ...email,
    to: recipients.to,
    cc: recipients.cc,
    bcc: recipients.bcc,
    headers: await withUnsubscribe(email),
    ...(email.html !== undefined ? { html: await tracked(email, email.html) } : {}),
  });
}
