/**
 * The broadcasts API's request bodies (create, change, schedule) and the definition they make.
 * Apart from core/broadcast.ts: checking a `from` address loads the IDNA tables (core/address.ts),
 * which the functions that only store or count broadcasts (webhooks, the audience worker's counts)
 * should not carry.
 */
import * as z from 'zod/mini';
import { parseMailbox } from './address';
import {
  BROADCAST_TAG,
  type BroadcastDefinition,
  DEFAULT_BROADCAST_CATEGORY,
  definitionPart,
  MAX_COOLDOWN_HOURS,
  MAX_PACE,
} from './broadcast';
import { ScheduledAtField } from './schedule';
import './zod-locale';

const SLUG = /^[a-z0-9][a-z0-9-]{0,63}$/;
const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;
const address = z.string().check(
  z.refine((v) => parseMailbox(v).ok, {
    message: 'must be an address, like "news@acme.example" or "Acme <news@acme.example>"',
  }),
);

const Cooldown = z.strictObject({
  key: z
    .string()
    .check(z.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'cooldown keys are 1 to 64 letters, digits, "_", ".", ":" or "-"')),
  hours: z.number().check(z.gt(0), z.lte(MAX_COOLDOWN_HOURS)),
});

const definitionFields = {
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  listId: z.string().check(z.minLength(1), z.maxLength(128)),
  template: z.strictObject({
    slug: z.string().check(z.regex(SLUG, 'template slugs are lower-case letters, digits and "-"')),
    /** A published version; the one active when the first page renders when left out (then pinned). */
    version: z.optional(z.int().check(z.gte(1))),
  }),
  /** Fixed variables, the same in every email (a contact's attributes fill the others). */
  variables: z.record(z.string(), z.json()),
  from: address,
  replyTo: z.optional(address),
  category: z.string().check(
    z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'categories are 1 to 64 lower-case letters, digits, "_" or "-"'),
    z.refine(
      (c) => c !== 'transactional',
      'a broadcast is not transactional mail: give its category, e.g. "marketing"',
    ),
  ),
  tags: z
    .record(
      z.string().check(z.regex(TAG_PART, 'tag names use only letters, digits, "_" and "-"')),
      z.string().check(z.regex(TAG_PART, 'tag values use only letters, digits, "_" and "-"')),
    )
    .check(
      z.refine((t) => Object.keys(t).length <= 9, 'at most 9 tags (the 10th is "broadcast")'),
      z.refine(
        (t) => !Object.keys(t).some((n) => n === BROADCAST_TAG || /^(mailroute|ses)/i.test(n)),
        'the tag names "broadcast", "mailroute…" and "ses…" are reserved',
      ),
    ),
  /** When `POST …/schedule` starts it (RFC 3339 with an offset). */
  scheduledAt: ScheduledAtField,
  /** Every email's cooldown: a recipient who got this key within the window is skipped (`throttled`). */
  cooldown: Cooldown,
  /** Emails per second, at most. @default - as fast as the bulk stream takes them */
  pace: z.int().check(z.gte(1), z.lte(MAX_PACE)),
};

/** `POST /v1/broadcasts`. */
export const CreateBroadcastBody = z.strictObject({
  name: z.optional(definitionFields.name),
  listId: definitionFields.listId,
  template: definitionFields.template,
  variables: z._default(definitionFields.variables, {}),
  from: definitionFields.from,
  replyTo: z.optional(definitionFields.replyTo),
  category: z._default(definitionFields.category, DEFAULT_BROADCAST_CATEGORY),
  tags: z.optional(definitionFields.tags),
  scheduledAt: z.optional(definitionFields.scheduledAt),
  cooldown: z.optional(definitionFields.cooldown),
  pace: z.optional(definitionFields.pace),
});
export type CreateBroadcastBody = z.output<typeof CreateBroadcastBody>;

/** `PATCH /v1/broadcasts/{id}` (draft only): the fields given replace the draft's; `null` removes an optional one. */
export const PatchBroadcastBody = z.strictObject({
  name: z.optional(definitionFields.name),
  listId: z.optional(definitionFields.listId),
  template: z.optional(definitionFields.template),
  variables: z.optional(definitionFields.variables),
  from: z.optional(definitionFields.from),
  replyTo: z.optional(z.nullable(definitionFields.replyTo)),
  category: z.optional(definitionFields.category),
  tags: z.optional(z.nullable(definitionFields.tags)),
  scheduledAt: z.optional(z.nullable(definitionFields.scheduledAt)),
  cooldown: z.optional(z.nullable(definitionFields.cooldown)),
  pace: z.optional(z.nullable(definitionFields.pace)),
});
export type PatchBroadcastBody = z.output<typeof PatchBroadcastBody>;

/** `POST …/schedule`: a time, unless the draft has one. */
export const ScheduleBroadcastBody = z.strictObject({ scheduledAt: z.optional(definitionFields.scheduledAt) });

/** What a broadcast sends, to whom and how: frozen once it leaves `draft`. */
/** The definition from a create request. */
export function definitionOf(body: CreateBroadcastBody): BroadcastDefinition {
  return {
    name: body.name ?? body.template.slug,
    listId: body.listId,
    template: body.template,
    variables: body.variables,
    from: body.from,
    ...(body.replyTo !== undefined ? { replyTo: body.replyTo } : {}),
    category: body.category,
    ...(body.tags !== undefined ? { tags: body.tags } : {}),
    ...(body.scheduledAt !== undefined ? { scheduledAt: body.scheduledAt } : {}),
    ...(body.cooldown !== undefined ? { cooldown: body.cooldown } : {}),
    ...(body.pace !== undefined ? { pace: body.pace } : {}),
  };
}

/** A draft's definition with a PATCH applied (`null` removes an optional field). */
export function patchDefinition(d: BroadcastDefinition, p: PatchBroadcastBody): BroadcastDefinition {
  const out: Record<string, unknown> = { ...definitionPart(d) };
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out as unknown as BroadcastDefinition;
}
