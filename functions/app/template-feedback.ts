/**
 * Bounces, complaints and rejections counted per template version: when SES reports one for a
 * message rendered from a template (its record keeps the slug and version), that version's counter
 * grows, and a canary running on the template is reviewed.
 */
import type { Status } from '../core/message';
import type { TemplateCounter } from '../core/template';
import type { MessageStore, TemplateStore } from '../ports';
import type { logger as defaultLogger } from './observability';
import { reviewCanary } from './template-canary';

const COUNTER: Partial<Record<Status, TemplateCounter>> = {
  bounced: 'bounces',
  complained: 'complaints',
  rejected: 'rejections',
};

export async function countTemplateFeedback(
  deps: { readonly messages: MessageStore; readonly templates: TemplateStore },
  messageId: string,
  status: Status,
  now: () => Date,
  logger: typeof defaultLogger,
): Promise<void> {
  const counter = COUNTER[status];
  if (!counter) return;
  const record = await deps.messages.get(messageId);
  if (!record?.template) return;
  await deps.templates.count(record.template.slug, record.template.version, { [counter]: 1 });
  await reviewCanary(deps.templates, record.template.slug, now, logger);
}
