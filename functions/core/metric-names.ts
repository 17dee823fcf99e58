/**
 * Every metric mailroute emits, named once. Functions emit these names and the dashboard charts
 * them, so the two cannot drift apart.
 */
export const METRIC_NAMESPACE = 'Mailroute';

export const METRICS = {
  accepted: 'EmailsAccepted',
  sent: 'EmailsSent',
  suppressed: 'EmailsSuppressed',
  /** Emails that ended `throttled` (every recipient in its cooldown). */
  throttled: 'EmailsThrottled',
  /** Recipients a cooldown dropped from an email (whether or not others got it). */
  cooldownSkipped: 'CooldownSkippedRecipients',
  rejected: 'EmailsRejected',
  failed: 'EmailsFailed',
  retried: 'SendRetries',
  ambiguous: 'AmbiguousSends',
  duplicateDelivery: 'DuplicateDeliveries',
  acceptToSendMs: 'AcceptToSendLatency',
  /** Messages put back with a delay because no provider had room (not failures). */
  waited: 'CapacityWaits',
  /** Circuits opened (any provider; per provider see PROVIDER_METRICS.circuitOpen). */
  circuitOpened: 'CircuitOpened',
  /**
   * Records that could not be settled on their message's last receive (the settle, or an earlier
   * write, failed): the message is in the dead-letter queue while its record is not final.
   */
  settleFailures: 'SettleFailures',
  delivered: 'EmailsDelivered',
  bounced: 'EmailsBounced',
  softBounced: 'SoftBounces',
  complained: 'EmailsComplained',
  suppressionsAdded: 'SuppressionsAdded',
  unsubscribes: 'Unsubscribes',
  sesEventsUnmapped: 'SesEventsUnmapped',
  opens: 'Opens',
  machineOpens: 'MachineOpens',
  clicks: 'Clicks',
  machineClicks: 'MachineClicks',
  /** Webhook events that could not be put on the events queue after retries (logged with their ids). */
  webhookEventsLost: 'WebhookEventsLost',
  /** Webhook attempts answered 2xx, and those that failed (any other answer, or none). */
  webhookDelivered: 'WebhookDeliveries',
  webhookAttemptFailed: 'WebhookAttemptFailures',
  /** Deliveries that used up their retries (status failed). */
  webhookGaveUp: 'WebhookDeliveriesFailed',
  /** Endpoints disabled (410 Gone, or too many failures in a row): the `webhook.disabled` alarm. */
  webhookDisabled: 'WebhookEndpointsDisabled',
} as const;

/** The few dimensions mailroute uses (each one multiplies the metric count: keep them few). */
export const DIMENSIONS = {
  /** A provider id from the chain. */
  provider: 'provider',
  /** How a provider attempt ended: throttled, down, broken, ambiguous. */
  outcome: 'outcome',
  /** A priority stream: critical, transactional, bulk. */
  priority: 'priority',
} as const;

/** Per provider: emitted with the `provider` dimension (errors also with `outcome`). */
export const PROVIDER_METRICS = {
  attempts: 'ProviderAttempts',
  /** The provider took the email (accepted), or refused this message (not its fault). */
  successes: 'ProviderSuccesses',
  /** Throttled, down, broken or ambiguous; by `outcome` too. */
  errors: 'ProviderErrors',
  /** Emails that moved on to the next provider after this one failed them. */
  failovers: 'ProviderFailovers',
  /** 1 while the provider's circuit is open or half-open, 0 when closed (use Maximum). */
  circuitOpen: 'ProviderCircuitOpen',
  /** Share of its tightest rate window in use after a reservation, in percent (use Maximum). */
  windowUtilization: 'RateWindowUtilization',
  /**
   * The adaptive throttle's effective rate, in percent of the declared limits (100 unless the
   * provider throttled without a Retry-After lately; use Minimum).
   */
  effectiveRate: 'ProviderEffectiveRate',
} as const;

/** Per priority stream (the reputation guard): emitted with the `priority` dimension. */
export const STREAM_METRICS = {
  /** 1 when the stream is paused, 0 when it is resumed; dispatchers holding its mail repeat the 1 (use Maximum). */
  paused: 'StreamPaused',
  /** A rate of the stream crossed a warn threshold. */
  warnings: 'StreamWarnings',
  /** The stream was resumed. */
  resumes: 'StreamResumes',
  /** Emails of the paused stream put back on their queue to wait (not failures). */
  held: 'StreamHeld',
  /** Hard bounces, in percent of the stream's sends over the guard's window, when judged (use Maximum). */
  bounceRate: 'StreamBounceRate',
  /** Complaints, in percent of the stream's sends over the guard's window, when judged (use Maximum). */
  complaintRate: 'StreamComplaintRate',
} as const;

/**
 * Broadcast emails by outcome, across every broadcast (a dimension per broadcast would be a metric per
 * broadcast; the per-broadcast figures are its counts, GET /v1/broadcasts/{id}).
 */
export const BROADCAST_METRICS = {
  /** Emails the fan-out accepted for consenting contacts. */
  targeted: 'BroadcastTargeted',
  /** Contacts left out by the fan-out: no consent for the category, or their values could not render the template. */
  noConsent: 'BroadcastSkippedNoConsent',
  render: 'BroadcastSkippedRender',
  /** Outcomes of broadcast emails, from their message events. */
  sent: 'BroadcastSent',
  delivered: 'BroadcastDelivered',
  bounced: 'BroadcastBounced',
  complained: 'BroadcastComplained',
  opened: 'BroadcastOpened',
  clicked: 'BroadcastClicked',
  unsubscribed: 'BroadcastUnsubscribed',
  suppressed: 'BroadcastSkippedSuppressed',
  cooldown: 'BroadcastSkippedCooldown',
  failed: 'BroadcastFailed',
} as const;

/** The error outcomes of a provider attempt (values of the `outcome` dimension). */
export const ERROR_OUTCOMES = ['throttled', 'down', 'broken', 'ambiguous'] as const;

export type MetricName =
  | (typeof METRICS)[keyof typeof METRICS]
  | (typeof PROVIDER_METRICS)[keyof typeof PROVIDER_METRICS]
  | (typeof STREAM_METRICS)[keyof typeof STREAM_METRICS]
  | (typeof BROADCAST_METRICS)[keyof typeof BROADCAST_METRICS];
