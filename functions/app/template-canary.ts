/**
 * The automatic end of a failing canary: once the canary version has `minSends` sends, its rejection
 * and bounce rates are compared with the active version's; past the margin, the canary is rolled
 * back (a conditional write: only the canary that was judged is ended).
 */
import { judgeCanary, NO_COUNTS } from '../core/template-canary';
import type { TemplateStore } from '../ports';
import type { logger as defaultLogger } from './observability';

export async function reviewCanary(
  store: TemplateStore,
  slug: string,
  now: () => Date,
  logger: typeof defaultLogger,
): Promise<void> {
  const head = await store.head(slug);
  if (!head?.canary) return;
  const stats = await store.stats(slug);
  const verdict = judgeCanary(
    head.canary,
    stats.get(head.activeVersion) ?? NO_COUNTS,
    stats.get(head.canary.version) ?? NO_COUNTS,
  );
  if (verdict.kind !== 'rollback') return;
  const ended = await store.activate(
    slug,
    { activeVersion: head.activeVersion },
    { activeVersion: head.activeVersion, canaryVersion: head.canary.version },
    now().toISOString(),
  );
  if (ended) {
    logger.warn('template canary rolled back', {
      template: slug,
      canaryVersion: head.canary.version,
      activeVersion: head.activeVersion,
      reason: verdict.reason,
    });
  }
}
