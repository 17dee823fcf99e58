/**
 * Which version of a template a send gets, and when a canary has failed. Pure: the random draw and
 * the counters come in as arguments.
 */
import type { TemplateCounts } from './template';

export interface VersionChoice {
  readonly activeVersion: number;
  readonly canary?: { readonly version: number; readonly percent: number } | undefined;
}

/** The canary's version for `percent` of draws (`random` in [0, 1)), the active version otherwise. */
export function pickVersion(head: VersionChoice, random: number): number {
  if (head.canary && random * 100 < head.canary.percent) return head.canary.version;
  return head.activeVersion;
}

/** Rejections (provider refusals and render failures) per attempted send, and bounces per send. */
export function ratesOf(c: TemplateCounts): { rejection: number; bounce: number } {
  const attempted = c.sends + c.renderFailures;
  return {
    rejection: attempted === 0 ? 0 : (c.rejections + c.renderFailures) / attempted,
    bounce: c.sends === 0 ? 0 : c.bounces / c.sends,
  };
}

export type CanaryVerdict =
  | { readonly kind: 'wait'; readonly sends: number }
  | { readonly kind: 'healthy' }
  | { readonly kind: 'rollback'; readonly reason: string };

/**
 * After `minSends` sends of the canary, it is rolled back when its rejection or bounce rate exceeds
 * the active version's by more than `margin`.
 */
export function judgeCanary(
  canary: { readonly minSends: number; readonly margin: number },
  active: TemplateCounts,
  candidate: TemplateCounts,
): CanaryVerdict {
  const sends = candidate.sends + candidate.renderFailures;
  if (sends < canary.minSends) return { kind: 'wait', sends };
  const before = ratesOf(active);
  const after = ratesOf(candidate);
  const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
  if (after.rejection - before.rejection > canary.margin) {
    return {
      kind: 'rollback',
      reason: `rejection rate ${pct(after.rejection)} against ${pct(before.rejection)} (margin ${pct(canary.margin)})`,
    };
  }
  if (after.bounce - before.bounce > canary.margin) {
    return {
      kind: 'rollback',
      reason: `bounce rate ${pct(after.bounce)} against ${pct(before.bounce)} (margin ${pct(canary.margin)})`,
    };
  }
  return { kind: 'healthy' };
}

export const NO_COUNTS: TemplateCounts = { sends: 0, renderFailures: 0, rejections: 0, bounces: 0, complaints: 0 };
