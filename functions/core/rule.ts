/**
 * Event rules: an application emits a semantic event (`user.signed_up`, `order.shipped`) about a
 * contact, and each enabled rule of that event name whose condition holds sends one templated email.
 *
 * Pure: the rule's schema, its condition (a short list of comparisons on the event's `data`, all of
 * which must hold; no code is evaluated), and the id an event's email gets from its meaning, so the
 * same event emitted again finds the email it created and sends nothing new.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { Cooldown } from './cooldown';
import type { SendEmailInput } from './email';
import { PRIORITIES, TRANSACTIONAL } from './priority';
import { MAX_SCHEDULE_DAYS, parseRfc3339 } from './schedule';
import { slug } from './template';

/** Event names: `user.signed_up`, `order.shipped`, `trial-ending`. */
export const EVENT_NAME_PATTERN = /^[a-z0-9_.-]{1,100}$/;
/** A path into an event's `data`: keys joined by dots (`plan`, `order.total`). */
export const DATA_PATH_PATTERN = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,4}$/;
export const RULE_LIMITS = {
  conditions: 20,
  keyFields: 10,
  /** The longest `delay`: a scheduled send's horizon. */
  delaySeconds: MAX_SCHEDULE_DAYS * 86_400,
  /** Rules per event name. */
  perEvent: 25,
  page: 100,
  /** Bytes of an event's `data` (as JSON). */
  dataBytes: 64 * 1024,
} as const;

export const CONDITION_OPS = ['eq', 'ne', 'in', 'exists', 'gt', 'lt'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

const eventName = z
  .string()
  .check(z.regex(EVENT_NAME_PATTERN, 'event names are 1 to 100 lower-case letters, digits, ".", "_" or "-"'));
const dataPath = z
  .string()
  .check(
    z.regex(
      DATA_PATH_PATTERN,
      'a path into data is 1 to 5 keys of letters, digits, "_" or "-", joined by "." (like "plan" or "order.total")',
    ),
  );
const category = z
  .string()
  .check(z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'categories are 1 to 64 lower-case letters, digits, "_" or "-"'));

/** One comparison on the event's data. `exists` takes `value: true` (the default) or `false`. */
export const Condition = z
  .strictObject({
    path: dataPath,
    op: z.enum(CONDITION_OPS, { error: `op is one of ${CONDITION_OPS.map((o) => `"${o}"`).join(', ')}` }),
    value: z.optional(z.json()),
  })
  .check(
    z.superRefine((c, ctx) => {
      if (c.op === 'exists') {
        if (c.value !== undefined && typeof c.value !== 'boolean')
          ctx.addIssue({ code: 'custom', path: ['value'], message: '"exists" takes true or false (default true)' });
        return;
      }
      if (c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `"${c.op}" needs a value` });
      if (c.op === 'in' && !Array.isArray(c.value))
        ctx.addIssue({ code: 'custom', path: ['value'], message: '"in" takes a list of values' });
      if ((c.op === 'gt' || c.op === 'lt') && typeof c.value !== 'number' && typeof c.value !== 'string')
        ctx.addIssue({ code: 'custom', path: ['value'], message: `"${c.op}" compares with a number or a string` });
    }),
  );
export type Condition = z.output<typeof Condition>;

/** A per-recipient cooldown: no second email with this key to the contact within `hours` (core/cooldown.ts). */
export const RuleCooldown = Cooldown;

/** The fields of a rule a client writes (POST /v1/rules). */
const ruleFields = {
  event: eventName,
  /** Comparisons on the event's `data`, all of which must hold. None: every event of the name. */
  condition: z.optional(z.array(Condition).check(z.maxLength(RULE_LIMITS.conditions))),
  template: z.strictObject({
    slug,
    /** A published version; the active one (or the canary's pick) when left out. */
    version: z.optional(z.int().check(z.minimum(1))),
  }),
  /** The sender; must be in a sender domain of the key that creates the rule (its sends run as that key). */
  from: z.string().check(z.minLength(3), z.maxLength(320)),
  /** Template variables every send of the rule gets (before the event's data and the contact's attributes). */
  variables: z._default(z.record(z.string(), z.json()), {}),
  category: z._default(category, TRANSACTIONAL),
  priority: z.optional(
    z.enum(PRIORITIES, { error: `priority is one of ${PRIORITIES.map((p) => `"${p}"`).join(', ')}` }),
  ),
  /** Seconds after the event to send at (a scheduled send), up to 30 days. */
  delay: z.optional(z.int().check(z.gte(0), z.lte(RULE_LIMITS.delaySeconds))),
  cooldown: z.optional(RuleCooldown),
  /** The contact must have consent for this category, or nothing is sent (`no_consent`). */
  consentCategory: z.optional(category),
  /** The data fields that say which event this is (`order_id`); volatile ones (timestamps) left out. */
  keyFields: z._default(z.array(dataPath).check(z.maxLength(RULE_LIMITS.keyFields)), []),
  enabled: z._default(z.boolean(), true),
};

export const CreateRuleBody = z.strictObject(ruleFields);
export type RuleDefinition = z.output<typeof CreateRuleBody>;

/** PATCH /v1/rules/{id}: the fields given replace the rule's; `null` clears an optional one. The event name stays. */
export const PatchRuleBody = z.strictObject({
  condition: z.optional(z.nullable(ruleFields.condition)),
  template: z.optional(ruleFields.template),
  from: z.optional(ruleFields.from),
  variables: z.optional(z.record(z.string(), z.json())),
  category: z.optional(category),
  priority: z.optional(z.nullable(z.enum(PRIORITIES))),
  delay: z.optional(z.nullable(z.int().check(z.gte(0), z.lte(RULE_LIMITS.delaySeconds)))),
  cooldown: z.optional(z.nullable(RuleCooldown)),
  consentCategory: z.optional(z.nullable(category)),
  keyFields: z.optional(z.array(dataPath).check(z.maxLength(RULE_LIMITS.keyFields))),
  enabled: z.optional(z.boolean()),
});
export type RulePatch = z.output<typeof PatchRuleBody>;

/** A stored rule: what the client wrote, and the key whose rights its sends run with. */
export interface Rule extends RuleDefinition {
  readonly id: string;
  /** The API key that created the rule: its sends run as this key (sender domains, the scheduled-send re-check). */
  readonly keyName: string;
  readonly keyHash?: string | undefined;
  readonly senderDomains: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A rule's definition (what a client writes) with a patch applied; `null` removes an optional field. */
export function patchRule(rule: RuleDefinition, patch: RulePatch): Record<string, unknown> {
  const next: Record<string, unknown> = {};
  for (const k of Object.keys(ruleFields)) {
    const v = (rule as unknown as Record<string, unknown>)[k];
    if (v !== undefined) next[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/** POST /v1/events. */
export const EmitEventBody = z.strictObject({
  name: eventName,
  /** The contact: by address (created, without consent, when new) or by id. */
  contact: z.union([
    z.strictObject({ email: z.string().check(z.minLength(3), z.maxLength(320)) }),
    z.strictObject({ id: z.string().check(z.minLength(1), z.maxLength(128)) }),
  ]),
  data: z._default(z.record(z.string(), z.json()), {}),
  /** When it happened (RFC 3339); informational. */
  occurredAt: z.optional(
    z.string().check(z.refine((s) => parseRfc3339(s) !== undefined, 'an RFC 3339 date-time with an offset')),
  ),
  /** Says which event this is, instead of the rules' key fields: the same key sends once per rule and contact. */
  idempotencyKey: z.optional(z.string().check(z.regex(/^[\x21-\x7e]{1,256}$/, '1 to 256 printable ASCII characters'))),
});
export type EmitEvent = z.output<typeof EmitEventBody>;

/** The value at a dotted path of `data`, reading only own properties; undefined when absent. */
export function valueAt(data: unknown, path: string): unknown {
  let at: unknown = data;
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * JSON with every object's keys in code-point order, at every depth: equal values give equal text
 * whatever order a client wrote their keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Whether one comparison holds for `data`. A missing field fails every op but `ne` and `exists: false`. */
export function conditionHolds(c: Condition, data: unknown): boolean {
  const v = valueAt(data, c.path);
  switch (c.op) {
    case 'exists':
      return (v !== undefined) === (c.value !== false);
    case 'eq':
      return v !== undefined && same(v, c.value);
    case 'ne':
      return v === undefined || !same(v, c.value);
    case 'in':
      return v !== undefined && Array.isArray(c.value) && c.value.some((x) => same(v, x));
    case 'gt': {
      const d = compare(v, c.value);
      return d !== undefined && d > 0;
    }
    case 'lt': {
      const d = compare(v, c.value);
      return d !== undefined && d < 0;
    }
  }
}

/** Whether every comparison of a rule's condition holds (no condition: always). */
export const matches = (condition: readonly Condition[] | undefined, data: unknown): boolean =>
  (condition ?? []).every((c) => conditionHolds(c, data));

/** What identifies one event for one rule: its name, the contact, and the event's key or its key fields' values. */
export interface EventIdentity {
  readonly ruleId: string;
  readonly event: string;
  readonly contactId: string;
  /** The client's key for the event; wins over the key fields when given. */
  readonly idempotencyKey?: string | undefined;
  readonly keyFields: readonly string[];
  readonly data: unknown;
}

/**
 * The id of the email a rule sends for an event: `e-` and 32 hex digits of a SHA-256 over the
 * identity in canonical JSON. Fields the rule does not name (timestamps, counters) play no part, so
 * the same event emitted again gets the same id; without key fields or a key, a rule sends once per contact.
 */
export function eventEmailId(e: EventIdentity): string {
  const meaning = e.idempotencyKey
    ? { key: e.idempotencyKey }
    : { fields: Object.fromEntries(e.keyFields.map((f) => [f, valueAt(e.data, f) ?? null])) };
  const identity = canonicalJson({ rule: e.ruleId, event: e.event, contact: e.contactId, ...meaning });
  return `e-${createHash('sha256').update(identity).digest('hex').slice(0, 32)}`;
}

/**
 * A send's template variables: each variable the template declares, from the rule's fixed
 * variables, else the event's data, else the contact's attributes, else `email` (the address).
 */
export function eventVariables(
  declared: Iterable<string>,
  sources: {
    readonly rule: Readonly<Record<string, unknown>>;
    readonly data: Readonly<Record<string, unknown>>;
    readonly attributes: Readonly<Record<string, unknown>>;
    readonly email: string;
  },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of declared) {
    for (const from of [sources.rule, sources.data, sources.attributes]) {
      if (Object.hasOwn(from, name) && from[name] !== undefined) {
        out[name] = from[name];
        break;
      }
    }
    if (!(name in out) && name === 'email') out[name] = sources.email;
  }
  return out;
}

/**
 * The email a rule sends to one contact (to be validated with SendEmailBody like any send), with
 * the rule's `cooldown`: the dispatcher skips a contact that got the key within its window.
 */
export function ruleEmail(
  rule: RuleDefinition & { readonly id: string },
  to: string,
  template: { readonly version?: number | undefined; readonly variables: Readonly<Record<string, unknown>> },
  scheduledAt?: string,
): SendEmailInput {
  const version = template.version ?? rule.template.version;
  return {
    from: rule.from,
    to,
    template: {
      slug: rule.template.slug,
      ...(version === undefined ? {} : { version }),
      variables: template.variables as Record<string, z.core.util.JSONType>,
    },
    category: rule.category,
    ...(rule.priority === undefined ? {} : { priority: rule.priority }),
    tags: { rule: rule.id },
    ...(scheduledAt === undefined ? {} : { scheduledAt }),
    ...(rule.cooldown ? { cooldown: rule.cooldown } : {}),
  };
}
