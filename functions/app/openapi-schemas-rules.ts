/**
 * The answers of the rules and events routes, for the OpenAPI document (spread into
 * `responseSchemas` of app/openapi-schemas.ts).
 */
import * as z from 'zod/mini';
import { PRIORITIES } from '../core/priority';

export const ruleResponseSchemas = () => {
  const str = () => z.string();
  const Rule = z.object({
    id: str(),
    event: str(),
    enabled: z.boolean(),
    condition: z.array(z.object({ path: str(), op: str(), value: z.optional(z.unknown()) })),
    template: z.object({ slug: str(), version: z.optional(z.int()) }),
    from: str(),
    variables: z.record(z.string(), z.unknown()),
    category: str(),
    priority: z.nullable(z.enum(PRIORITIES)),
    delay: z.nullable(z.int()),
    cooldown: z.nullable(z.object({ key: str(), hours: z.number() })),
    consentCategory: z.nullable(str()),
    keyFields: z.array(str()),
    /** The key whose rights the rule's sends run with (the one that created or last changed it). */
    apiKey: str(),
    createdAt: str(),
    updatedAt: str(),
  });
  return {
    Rule,
    RulePage: z.object({ data: z.array(Rule), next: z.nullable(str()) }),
    EventAccepted: z.object({
      event: str(),
      contact: str(),
      sends: z.array(
        z.object({
          rule: str(),
          email_id: z.optional(str()),
          status: z.enum(['queued', 'scheduled', 'duplicate', 'skipped']),
          reason: z.optional(str()),
          detail: z.optional(str()),
        }),
      ),
    }),
  };
};
