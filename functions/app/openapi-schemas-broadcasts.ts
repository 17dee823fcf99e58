/** The answers of the broadcasts API, for the OpenAPI document (openapi-schemas.ts). */
import * as z from 'zod/mini';
import { BROADCAST_STATES } from '../core/broadcast';

/** The answers' schemas, by name. */
export const broadcastResponseSchemas = () => {
  const str = () => z.string();
  const nullableStr = () => z.nullable(z.string());
  const Broadcast = z.object({
    id: str(),
    name: str(),
    state: z.enum(BROADCAST_STATES),
    listId: str(),
    template: z.object({ slug: str(), version: z.nullable(z.int()) }),
    variables: z.record(z.string(), z.unknown()),
    from: str(),
    replyTo: nullableStr(),
    category: str(),
    tags: z.record(z.string(), z.string()),
    scheduledAt: nullableStr(),
    cooldown: z.nullable(z.object({ key: str(), hours: z.number() })),
    pace: z.nullable(z.int()),
    createdBy: str(),
    progress: z.object({ pages: z.int(), done: z.boolean() }),
    counts: z.optional(
      z.object({
        targeted: z.int(),
        skipped: z.object({ no_consent: z.int(), suppressed: z.int(), cooldown: z.int(), render: z.int() }),
        sent: z.int(),
        delivered: z.int(),
        bounced: z.int(),
        complained: z.int(),
        opened: z.int(),
        clicked: z.int(),
        unsubscribed: z.int(),
        failed: z.int(),
      }),
    ),
    history: z.array(z.object({ state: z.enum(BROADCAST_STATES), at: str(), action: z.optional(str()) })),
    createdAt: str(),
    updatedAt: str(),
    sentAt: nullableStr(),
  });
  return { Broadcast, BroadcastPage: z.object({ data: z.array(Broadcast), next: nullableStr() }) };
};
