/**
 * SES notifications → what they mean for mailroute. Both formats SES uses are read: event
 * publishing (`eventType`, from the configuration set) and identity notifications
 * (`notificationType`). Schemas are loose: SES adds fields, so unknown fields are kept, never refused.
 */
import * as z from 'zod/mini';
import './zod-locale';
import { addressKey } from './address-key';
import { MESSAGE_ID_HEADER, MESSAGE_ID_TAG, type MessageEvent, type Status } from './message';
import type { SuppressionReason } from './suppression';

const str = z.string();
const optStr = z.optional(z.nullable(z.string()));

const Mail = z.looseObject({
  messageId: str,
  timestamp: optStr,
  destination: z.optional(z.array(str)),
  tags: z.optional(z.record(str, z.array(str))),
  headers: z.optional(z.array(z.looseObject({ name: str, value: str }))),
});

// The rarer notifications' schemas are built when one first arrives, not at cold start.
const Bounce = z.lazy(() =>
  z.looseObject({
    bounceType: str,
    bounceSubType: optStr,
    bouncedRecipients: z.array(
      z.looseObject({ emailAddress: str, action: optStr, status: optStr, diagnosticCode: optStr }),
    ),
    timestamp: str,
    feedbackId: str,
  }),
);

const Complaint = z.lazy(() =>
  z.looseObject({
    complainedRecipients: z.array(z.looseObject({ emailAddress: str })),
    timestamp: str,
    feedbackId: str,
    complaintFeedbackType: optStr,
    complaintSubType: optStr,
  }),
);

const Delivery = z.looseObject({
  timestamp: str,
  recipients: z.array(str),
  smtpResponse: optStr,
  processingTimeMillis: z.optional(z.number()),
});

const DeliveryDelay = z.lazy(() =>
  z.looseObject({
    timestamp: str,
    delayType: optStr,
    expirationTime: optStr,
    delayedRecipients: z.array(z.looseObject({ emailAddress: str, status: optStr, diagnosticCode: optStr })),
  }),
);

export const SesNotification = z.looseObject({
  eventType: z.optional(str),
  notificationType: z.optional(str),
  mail: Mail,
  bounce: z.optional(Bounce),
  complaint: z.optional(Complaint),
  delivery: z.optional(Delivery),
  deliveryDelay: z.optional(DeliveryDelay),
  reject: z.optional(z.lazy(() => z.looseObject({ reason: optStr }))),
  failure: z.optional(z.lazy(() => z.looseObject({ errorMessage: optStr, templateName: optStr }))),
});
export type SesNotification = z.infer<typeof SesNotification>;

export interface Suppress {
  readonly address: string;
  readonly reason: SuppressionReason;
  readonly detail: Record<string, unknown>;
}

/** What one SES notification does. */
export interface Feedback {
  /** Idempotency key: the same notification delivered again has the same key. */
  readonly key: string;
  /** When SES says it happened (ISO): compared with re-enable times. */
  readonly at: string;
  readonly sesMessageId: string;
  /** Our message id, when the notification carries it. */
  readonly messageId?: string;
  /** The status this moves the message to, if any. */
  readonly status?: Status;
  readonly event: MessageEvent;
  readonly suppress: readonly Suppress[];
  /** Addresses with a transient bounce, counted towards a soft-bounce suppression. */
  readonly softBounces: readonly string[];
}

/** Statuses a message may move from to each feedback status: status only moves forward. */
export const FORWARD_FROM: Readonly<Partial<Record<Status, readonly Status[]>>> = {
  // `failed` is there for the ambiguous case: an SES event proves SES did accept the email.
  delivered: ['sent', 'failed'],
  bounced: ['sent', 'delivered', 'failed'],
  complained: ['sent', 'delivered', 'bounced', 'failed'],
  rejected: ['sent', 'failed'],
};

/** Turns an SQS body (raw SES JSON, or an SNS envelope around it) into a notification. */
export function unwrap(body: unknown): unknown {
  if (body && typeof body === 'object' && (body as { Type?: unknown }).Type === 'Notification') {
    const message = (body as { Message?: unknown }).Message;
    return typeof message === 'string' ? JSON.parse(message) : message;
  }
  return body;
}

function ourMessageId(n: SesNotification): string | undefined {
  const tagged = n.mail.tags?.[MESSAGE_ID_TAG]?.[0];
  if (tagged) return tagged;
  const header = n.mail.headers?.find((h) => h.name.toLowerCase() === MESSAGE_ID_HEADER.toLowerCase());
  return header?.value;
}

const clean = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

/**
 * Interprets a notification. Returns undefined for kinds mailroute does not act on (Send, Open,
 * Click, Subscription: mailroute tracks opens and clicks itself).
 */
export function interpret(n: SesNotification): Feedback | undefined {
  const type = n.eventType ?? n.notificationType ?? '';
  const base = { sesMessageId: n.mail.messageId, ...(ourMessageId(n) ? { messageId: ourMessageId(n) } : {}) };

  if (type === 'Bounce' && n.bounce) {
    const b = n.bounce;
    const recipients = b.bouncedRecipients.map((r) => ({
      address: addressKey(r.emailAddress),
      detail: clean({
        bounceType: b.bounceType,
        bounceSubType: b.bounceSubType,
        diagnosticCode: r.diagnosticCode,
        status: r.status,
      }),
    }));
    const permanent = b.bounceType === 'Permanent';
    const detail = clean({
      bounceType: b.bounceType,
      bounceSubType: b.bounceSubType,
      recipients: recipients.map((r) => r.address),
      diagnosticCode: b.bouncedRecipients[0]?.diagnosticCode,
      feedbackId: b.feedbackId,
    });
    return {
      ...base,
      key: `bounce:${b.feedbackId}`,
      at: b.timestamp,
      // Every Permanent bounce suppresses, whatever its subtype (new subtypes appear over time).
      // Transient and Undetermined (and any unknown type) only count towards a soft-bounce limit.
      ...(permanent ? { status: 'bounced' as const } : {}),
      event: { type: permanent ? 'bounced' : 'soft_bounced', at: b.timestamp, detail },
      suppress: permanent
        ? recipients.map((r) => ({ address: r.address, reason: 'hard_bounce', detail: r.detail }))
        : [],
      softBounces: permanent ? [] : recipients.map((r) => r.address),
    };
  }

  if (type === 'Complaint' && n.complaint) {
    const c = n.complaint;
    const notSpam = c.complaintFeedbackType === 'not-spam';
    const recipients = c.complainedRecipients.map((r) => addressKey(r.emailAddress));
    const detail = clean({
      feedbackType: c.complaintFeedbackType,
      complaintSubType: c.complaintSubType,
      recipients,
      feedbackId: c.feedbackId,
    });
    return {
      ...base,
      key: `complaint:${c.feedbackId}`,
      at: c.timestamp,
      // A "not-spam" report is a recipient taking mail out of spam: no suppression.
      ...(notSpam ? {} : { status: 'complained' as const }),
      event: { type: notSpam ? 'not_spam' : 'complained', at: c.timestamp, detail },
      suppress: notSpam ? [] : recipients.map((address) => ({ address, reason: 'complaint', detail })),
      softBounces: [],
    };
  }

  if (type === 'Delivery' && n.delivery) {
    const d = n.delivery;
    return {
      ...base,
      key: `delivery:${n.mail.messageId}:${d.timestamp}:${d.recipients.join(',')}`,
      at: d.timestamp,
      status: 'delivered',
      event: {
        type: 'delivered',
        at: d.timestamp,
        detail: clean({ recipients: d.recipients, smtpResponse: d.smtpResponse }),
      },
      suppress: [],
      softBounces: [],
    };
  }

  if (type === 'DeliveryDelay' && n.deliveryDelay) {
    const d = n.deliveryDelay;
    return {
      ...base,
      key: `delay:${n.mail.messageId}:${d.timestamp}`,
      at: d.timestamp,
      event: {
        type: 'delayed',
        at: d.timestamp,
        detail: clean({
          delayType: d.delayType,
          expirationTime: d.expirationTime,
          recipients: d.delayedRecipients.map((r) => r.emailAddress),
          diagnosticCode: d.delayedRecipients[0]?.diagnosticCode,
        }),
      },
      suppress: [],
      softBounces: [],
    };
  }

  if ((type === 'Reject' && n.reject) || (type === 'Rendering Failure' && n.failure)) {
    const reason =
      type === 'Reject'
        ? `SES rejected the email: ${n.reject?.reason ?? 'unknown reason'}`
        : `SES could not render the email: ${n.failure?.errorMessage ?? 'unknown error'}`;
    const at = n.mail.timestamp ?? new Date(0).toISOString();
    return {
      ...base,
      key: `${type === 'Reject' ? 'reject' : 'failure'}:${n.mail.messageId}`,
      at,
      status: 'rejected',
      event: { type: 'rejected', at, detail: { reason } },
      suppress: [],
      softBounces: [],
    };
  }

  return undefined;
}
