/**
 * SES notifications (SNS → SQS, raw delivery) → message status, timeline and suppression list.
 * Each notification applies once (keyed on its feedback id, or on the message id and time for
 * delivery events); status only moves forward; suppressions are checked against re-enables.
 */
import { createHash } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { METRICS } from '../core/metric-names';
import { FORWARD_FROM, interpret, SesNotification, unwrap } from '../core/ses-events';
import { ALL_MAIL } from '../core/suppression';
import type { MessageStore, SuppressionStore, TemplateStore } from '../ports';
import { logger as defaultLogger, metrics as defaultMetrics, publishMetrics, traceInvocation } from './observability';
import { countTemplateFeedback } from './template-feedback';

export interface SesEventsDeps {
  readonly messages: MessageStore;
  readonly suppression: SuppressionStore;
  readonly softBounce: { readonly limit: number; readonly windowHours: number };
  /** Where bounces, complaints and rejections of templated mail are counted per template version. */
  readonly templates?: TemplateStore;
  readonly now?: () => number;
  readonly logger?: typeof defaultLogger;
  readonly metrics?: typeof defaultMetrics;
}

const STATUS_METRIC = {
  delivered: METRICS.delivered,
  bounced: METRICS.bounced,
  complained: METRICS.complained,
  rejected: METRICS.rejected,
} as const;

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
    if (result === 'applied' && fb.status && deps.templates) {
      const templates = { messages: deps.messages, templates: deps.templates };
      await countTemplateFeedback(templates, fb.messageId, fb.status, () => new Date(now()), logger);
    }
  }

  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(
      event,
      async (rec: SQSRecord) => {
        try {
          await handleRecord(rec);
        } catch (e) {
          logger.warn('SES notification not processed', { error: e as Error, sqsMessageId: rec.messageId });
          throw e;
        }
      },
      new BatchProcessor(EventType.SQS),
      { context, throwOnFullBatchFailure: false },
    );

  return middy(core)
    .use(traceInvocation())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics(metrics));
}
