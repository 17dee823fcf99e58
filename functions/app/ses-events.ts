/**
 * SES notifications (SNS → SQS, raw delivery) → message status, timeline and suppression list.
 * Each notification applies once (keyed on its feedback id, or on the message id and time for
 * delivery events); status only moves forward; suppressions are checked against re-enables.
 */
import { createHash } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSRecord } from 'aws-lambda';
import { METRICS } from '../core/metric-names';
import { countedBounces, countedComplaints } from '../core/reputation';
import { FORWARD_FROM, interpret, SesNotification, unwrap } from '../core/ses-events';
import { ALL_MAIL } from '../core/suppression';
import type { MessageStore, SuppressionStore, TemplateStore } from '../ports';
import type { AppMetrics } from './observability';
import {
  logger as defaultLogger,
  metrics as defaultMetrics,
  newMetrics,
  publishMetrics,
  traceInvocation,
} from './observability';
import { eachRecord } from './sqs-records';
import { type GuardSettings, priorityOf, recordFeedback, type StreamGuardDeps } from './streams';
import { countTemplateFeedback } from './template-feedback';
import { type EventBuffer, flushEvents } from './webhook-events';

export interface SesEventsDeps {
  /** Webhook events of this invocation's state changes, published when it ends. @default - none */
  readonly events?: EventBuffer;
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  readonly softBounce: { readonly limit: number; readonly windowHours: number };
  /**
   * The reputation guard: hard bounces and complaints counted against their email's priority, whose
   * stream is then judged (warned, paused).
   * @default - no guard
   */
  readonly guard?: { readonly store: StreamGuardDeps['store']; readonly settings: GuardSettings };
  /** Where bounces, complaints and rejections of templated mail are counted per template version. */
  readonly templates?: TemplateStore;
  readonly now?: () => number;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
  /** A fresh metrics buffer per stream figure (the `priority` dimension). @default newMetrics */
  readonly streamMetrics?: () => AppMetrics;
}

const STATUS_METRIC = {
  delivered: METRICS.delivered,
  bounced: METRICS.bounced,
  complained: METRICS.complained,
  rejected: METRICS.rejected,
} as const;

/** The hard bounces and complaints a notification adds to its email's stream (core/reputation.ts). */
function reputationCounts(n: SesNotification): { bounces: number; complaints: number } {
  const type = n.eventType ?? n.notificationType;
  const bounces =
    type === 'Bounce' && n.bounce
      ? countedBounces({
          bounceType: n.bounce.bounceType,
          bounceSubType: n.bounce.bounceSubType,
          recipients: n.bounce.bouncedRecipients.map((r) => r.emailAddress),
        })
      : 0;
  const complaints =
    type === 'Complaint' && n.complaint
      ? countedComplaints({
          feedbackType: n.complaint.complaintFeedbackType,
          subType: n.complaint.complaintSubType,
          recipients: n.complaint.complainedRecipients.map((r) => r.emailAddress),
        })
      : 0;
  return { bounces, complaints };
}

/** A short, fixed-size form of a notification key, stored on the message. */
const digest = (key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 22);

export function createSesEventsHandler(deps: SesEventsDeps) {
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? defaultLogger;
  const metrics = deps.metrics ?? defaultMetrics;

  async function handleRecord(rec: SQSRecord): Promise<void> {
    const parsed = SesNotification.safeParse(unwrap(JSON.parse(rec.body)));
    if (!parsed.success) throw new Error(`not an SES notification: ${parsed.error.issues[0]?.message ?? ''}`);
    const fb = interpret(parsed.data);
    if (!fb) return; // Send, Open, Click, Subscription: nothing to do

    // Suppressions first: each write is idempotent, so a retry after a later failure is safe.
    for (const s of fb.suppress) {
      const inForce = await deps.suppression.suppress({
        address: s.address,
        scope: ALL_MAIL,
        reason: s.reason,
        source: 'ses',
        at: fb.at,
        detail: s.detail,
        ...(fb.messageId ? { messageId: fb.messageId } : {}),
      });
      if (inForce) metrics.addMetric(METRICS.suppressionsAdded, 'Count', 1);
      else logger.info('suppression skipped: the address was re-enabled after this event', { at: fb.at });
    }
    for (const address of fb.softBounces) {
      metrics.addMetric(METRICS.softBounced, 'Count', 1);
      const count = await deps.suppression.recordSoftBounce(address, fb.key, fb.at, deps.softBounce.windowHours, now());
      if (count >= deps.softBounce.limit) {
        await deps.suppression.suppress({
          address,
          scope: ALL_MAIL,
          reason: 'soft_bounce',
          source: 'ses',
          at: fb.at,
          detail: { transientBounces: count, windowHours: deps.softBounce.windowHours },
          ...(fb.messageId ? { messageId: fb.messageId } : {}),
        });
        metrics.addMetric(METRICS.suppressionsAdded, 'Count', 1);
      }
    }

    if (!fb.messageId) {
      // Identity notifications without the original headers cannot name our message; the
      // suppressions above still apply.
      metrics.addMetric(METRICS.sesEventsUnmapped, 'Count', 1);
      return;
    }
    const from = fb.status ? (FORWARD_FROM[fb.status] ?? []) : [];
    const result = await deps.messages.applyFeedback(fb.messageId, digest(fb.key), fb.event, fb.status, from);
    if (result === 'not-yet-sent') {
      // SES was faster than the dispatcher's own record: let SQS deliver this notification again.
      throw new Error('message not recorded as sent yet; retrying later');
    }
    if (result === 'applied' && fb.status)
      metrics.addMetric(STATUS_METRIC[fb.status as keyof typeof STATUS_METRIC], 'Count', 1);
    // Counted once (the first time the notification applies), against its email's priority.
    if (result === 'applied' && deps.guard) await countForGuard(deps.guard, fb.messageId, parsed.data);
    if (result === 'applied' && fb.status && deps.templates) {
      const templates = { messages: deps.messages, templates: deps.templates };
      await countTemplateFeedback(templates, fb.messageId, fb.status, () => new Date(now()), logger);
    }
  }

  async function countForGuard(guard: NonNullable<SesEventsDeps['guard']>, id: string, n: SesNotification) {
    const counts = reputationCounts(n);
    if (counts.bounces === 0 && counts.complaints === 0) return;
    try {
      const record = await deps.messages.get(id);
      if (!record) return;
      await recordFeedback(
        { ...guard, now, logger, metrics: deps.streamMetrics ?? newMetrics },
        priorityOf(record),
        counts,
      );
    } catch (error) {
      // The notification itself is recorded; a count that could not be written is logged, not retried.
      logger.warn('could not count the notification for the reputation guard', { error, messageId: id });
    }
  }

  const core = eachRecord(handleRecord, logger, 'SES notification');

  return middy(core)
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics))
    .use(flushEvents(deps.events));
}
