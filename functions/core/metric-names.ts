/**
 * Every metric mailroute emits, named once. Functions emit these names and the dashboard charts
 * them, so the two cannot drift apart.
 */
export const METRIC_NAMESPACE = 'Mailroute';

export const METRICS = {
  accepted: 'EmailsAccepted',
  sent: 'EmailsSent',
  suppressed: 'EmailsSuppressed',
  rejected: 'EmailsRejected',
  failed: 'EmailsFailed',
  retried: 'SendRetries',
  ambiguous: 'AmbiguousSends',
  duplicateDelivery: 'DuplicateDeliveries',
  acceptToSendMs: 'AcceptToSendLatency',
  providerAttempts: 'ProviderAttempts',
  providerErrors: 'ProviderErrors',
  failovers: 'ProviderFailovers',
  /** Messages put back with a delay because no provider had room (not failures). */
  waited: 'CapacityWaits',
  circuitOpened: 'CircuitOpened',
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
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];
