/**
 * Emails sent with a `template`, at accept time: rendered before anything is recorded (a missing
 * or mistyped variable refuses the whole request, every problem named by its path), and counted
 * per template version once accepted.
 */
import { effectiveCooldown } from '../core/cooldown';
import type { SendEmail } from '../core/email';
import { DomainError } from '../core/errors';
import type { TemplateRef } from '../core/template';
import type { logger as defaultLogger } from './observability';
import { reviewCanary } from './template-canary';
import { renderForSend, type TemplateRenderDeps } from './template-render';

export interface TemplateSendDeps extends TemplateRenderDeps {
  readonly now?: () => Date;
}

/**
 * The emails with their templates rendered (subject, html and text filled in), and per email the
 * template version it used. Emails without a template pass unchanged, and without loading the engine.
 */
export async function renderTemplates(
  deps: TemplateSendDeps,
  emails: readonly SendEmail[],
  logger: typeof defaultLogger,
): Promise<{ emails: SendEmail[]; refs: (TemplateRef | undefined)[] }> {
  if (emails.every((e) => e.template === undefined)) return { emails: [...emails], refs: emails.map(() => undefined) };
  const paths = emails.map((_, i) => (emails.length > 1 ? `emails.${i}.template` : 'template'));
  const result = await renderForSend(
    deps,
    emails.map((e) => e.template),
    paths,
  );
  if (result.issues.length > 0) {
    await Promise.all(
      [...result.failures.values()].map((f) =>
        deps.store.count(f.slug, f.version, { renderFailures: f.count }).catch((error: unknown) => {
          logger.warn('template render failures not counted', { error: error as Error, template: f.slug });
        }),
      ),
    );
    await reviewCanaries(deps, result.canaries, logger);
    throw new DomainError(
      'validation_failed',
      emails.length > 1
        ? 'Some emails in the batch could not be rendered from their templates; none was sent.'
        : 'The email could not be rendered from its template.',
      result.issues,
    );
  }
  const rendered = emails.map((e, i) => {
    const r = result.emails[i];
    if (!r) return e;
    const { template: _template, cooldown: own, ...rest } = e;
    // The send's own cooldown wins; `null` turns the template's default off.
    const cooldown = effectiveCooldown(own, r.cooldown);
    return {
      ...rest,
      ...(cooldown ? { cooldown } : {}),
      subject: r.subject,
      ...(r.html !== undefined ? { html: r.html } : {}),
      ...(r.text !== undefined ? { text: r.text } : {}),
    };
  });
  return { emails: rendered, refs: result.emails.map((r) => r?.template) };
}

async function reviewCanaries(
  deps: TemplateSendDeps,
  slugs: Iterable<string>,
  logger: typeof defaultLogger,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  await Promise.all(
    [...slugs].map((slug) =>
      reviewCanary(deps.store, slug, now, logger).catch((error: unknown) => {
        logger.warn('template canary not reviewed', { error: error as Error, template: slug });
      }),
    ),
  );
}

/**
 * Counts accepted sends per template version (one write per version in the request). The emails
 * are accepted already: a counter that cannot be written is logged, not an error.
 */
export async function countSends(
  deps: TemplateSendDeps,
  refs: readonly (TemplateRef | undefined)[],
  logger: typeof defaultLogger,
): Promise<void> {
  const groups = new Map<string, TemplateRef & { count: number }>();
  for (const ref of refs) {
    if (!ref) continue;
    const key = `${ref.slug}@${ref.version}`;
    groups.set(key, { ...ref, count: (groups.get(key)?.count ?? 0) + 1 });
  }
  if (groups.size === 0) return;
  await Promise.all(
    [...groups.values()].map((g) =>
      deps.store.count(g.slug, g.version, { sends: g.count }).catch((error: unknown) => {
        logger.warn('template sends not counted', { error: error as Error, template: g.slug });
      }),
    ),
  );
}
