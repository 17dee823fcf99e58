/**
 * POST /v1/events: an application says what happened to a contact (`user.signed_up`), and every
 * enabled rule of that event name whose condition holds sends one templated email through the one
 * accept path. Each email's id is derived from the event's meaning (core/rule.ts `eventEmailId`),
 * so the same event emitted again, or retried after a timeout, finds its email and sends nothing new.
 *
 * One rule's problem (no consent, a template its values cannot render) skips that rule and is
 * reported; the others still send. A failure to record or enqueue is a 503 and the event can be
 * emitted again as it is: what was accepted is found again, what was not is sent.
 */
import { randomUUID } from 'node:crypto';
import type * as z from 'zod/mini';
import { normaliseAddress } from '../core/address';
import { type Contact, hasConsent } from '../core/contact';
import { SendEmailBody } from '../core/email';
import { DomainError, type FieldIssue, isDomainError } from '../core/errors';
import type { RouteKey } from '../core/routes';
import { EmitEventBody, eventEmailId, eventVariables, matches, RULE_LIMITS, type Rule, ruleEmail } from '../core/rule';
import { pickVersion } from '../core/template-canary';
import { API_ERRORS } from '../core/zod-locale';
import type { ContactStore, RuleStore, TemplateStore } from '../ports';
import type { Accept } from './accept';
import type { Caller } from './auth';
import type { RouteMap } from './http';

export interface EventDeps {
  readonly rules: RuleStore;
  readonly contacts: ContactStore;
  readonly templates: TemplateStore;
  /** The one send path (app/accept.ts). */
  readonly accept: Accept;
  readonly now: () => Date;
  readonly newId?: () => string;
  /** The draw that picks a canary's version (in [0, 1)). @default Math.random */
  readonly random?: () => number;
}

export type SendStatus = 'queued' | 'scheduled' | 'duplicate' | 'skipped';

/** What one rule did with the event. */
export interface RuleSend {
  readonly rule: string;
  readonly email_id?: string;
  readonly status: SendStatus;
  /** Why a rule was skipped: `no_consent`, `template` (its values cannot render it), `not_sendable`. */
  readonly reason?: string;
  /** The problem, for a skipped rule. */
  readonly detail?: string;
}

/** Most of a request: data up to 64 KB and the rest of the body. */
export const MAX_EVENT_BYTES = RULE_LIMITS.dataBytes + 4096;

const issuesOf = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

const problemOf = (e: DomainError) =>
  [e.message, ...(e.details ?? []).map((d) => `${d.path}: ${d.message}`)].join(' ').slice(0, 1000);

/** A template version's declared variable names (its own and its layout's), or why it cannot be used. */
interface Declared {
  readonly version: number;
  readonly names: readonly string[];
}

export function eventRoutes(deps: EventDeps): RouteMap<Extract<RouteKey<'ingest'>, 'POST /v1/events'>> {
  const newId = deps.newId ?? randomUUID;
  const random = deps.random ?? Math.random;

  /** The contact of an address, created (without consent) when there is none. */
  async function contactByAddress(email: string): Promise<Contact> {
    const address = normaliseAddress(email);
    if (address === undefined) {
      throw new DomainError('validation_failed', 'The event is not valid.', [
        { path: 'contact.email', message: 'must be an email address like name@example.com' },
      ]);
    }
    const known = await deps.contacts.byAddress(address);
    if (known) return known;
    const at = deps.now().toISOString();
    const contact: Contact = { id: newId(), address, attributes: {}, consent: {}, createdAt: at, updatedAt: at };
    if (await deps.contacts.create(contact)) return contact;
    // Created meanwhile by another request: that one.
    const raced = await deps.contacts.byAddress(address);
    if (!raced) throw new DomainError('unavailable', 'The contact could not be created; nothing was sent. Try again.');
    return raced;
  }

  async function contactOf(ref: { email: string } | { id: string }): Promise<Contact> {
    if ('email' in ref) return contactByAddress(ref.email);
    const contact = await deps.contacts.get(ref.id);
    if (!contact) throw new DomainError('not_found', `No contact with id "${ref.id.slice(0, 64)}".`);
    return contact;
  }

  /** The version a rule's send renders and the variables it declares; a string says why there is none. */
  async function declaredOf(rule: Rule, heads: Map<string, Promise<Declared | string>>): Promise<Declared | string> {
    const key = `${rule.template.slug}@${rule.template.version ?? ''}`;
    let found = heads.get(key);
    if (!found) {
      found = readDeclared(rule.template.slug, rule.template.version);
      heads.set(key, found);
    }
    return found;
  }

  async function readDeclared(slug: string, pinned: number | undefined): Promise<Declared | string> {
    const head = await deps.templates.head(slug);
    if (head?.kind !== 'template') return `no template "${slug}"`;
    // The version is picked here (the canary's share as at any send) and pinned, so the variables
    // given are exactly those of the version that renders.
    const version = pinned ?? pickVersion(head, head.canary ? random() : 0);
    if (version === 0) return `template "${slug}" has no active version: publish one`;
    const content = (await deps.templates.version(slug, version))?.content;
    if (!content) return `template "${slug}" has no version ${version}`;
    const names = content.variables.map((v) => v.name);
    if (content.layout) {
      const layout = await deps.templates.head(content.layout);
      const layoutVersion = layout?.kind === 'layout' ? layout.activeVersion : 0;
      const decls =
        layoutVersion > 0
          ? (await deps.templates.version(content.layout, layoutVersion))?.content.variables
          : layout?.draft.variables;
      for (const d of decls ?? []) if (!names.includes(d.name)) names.push(d.name);
    }
    return { version, names };
  }

  return {
    'POST /v1/events': {
      auth: 'send',
      maxBodyBytes: MAX_EVENT_BYTES,
      handle: async (req) => {
        if (req.body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
        const parsed = EmitEventBody.safeParse(req.body, API_ERRORS);
        if (!parsed.success) {
          throw new DomainError('validation_failed', 'The event is not valid.', issuesOf(parsed.error));
        }
        const event = parsed.data;
        if (Buffer.byteLength(JSON.stringify(event.data), 'utf8') > RULE_LIMITS.dataBytes) {
          throw new DomainError('payload_too_large', `An event's data is at most ${RULE_LIMITS.dataBytes} bytes.`, [
            { path: 'data', message: 'too large' },
          ]);
        }
        const contact = await contactOf(event.contact);
        const rules = (await deps.rules.forEvent(event.name)).filter(
          (r) => r.enabled && matches(r.condition, event.data),
        );
        const heads = new Map<string, Promise<Declared | string>>();
        const sends: RuleSend[] = [];
        // One rule after the other: each is its own accept, so one rule's problem skips only that rule.
        for (const rule of rules) sends.push(await sendFor(rule, contact, event, heads));
        return { status: 202, body: { event: event.name, contact: contact.id, sends } };
      },
    },
  };

  async function sendFor(
    rule: Rule,
    contact: Contact,
    event: z.output<typeof EmitEventBody>,
    heads: Map<string, Promise<Declared | string>>,
  ): Promise<RuleSend> {
    if (rule.consentCategory !== undefined && !hasConsent(contact, rule.consentCategory)) {
      return { rule: rule.id, status: 'skipped', reason: 'no_consent' };
    }
    const declared = await declaredOf(rule, heads);
    if (typeof declared === 'string') return { rule: rule.id, status: 'skipped', reason: 'template', detail: declared };
    const variables = eventVariables(declared.names, {
      rule: rule.variables,
      data: event.data,
      attributes: contact.attributes,
      email: contact.address,
    });
    const scheduledAt =
      rule.delay !== undefined && rule.delay > 0
        ? new Date(deps.now().getTime() + rule.delay * 1000).toISOString()
        : undefined;
    const email = SendEmailBody.safeParse(
      ruleEmail(rule, contact.address, { version: declared.version, variables }, scheduledAt),
      API_ERRORS,
    );
    if (!email.success) {
      const detail = issuesOf(email.error)
        .map((i) => `${i.path}: ${i.message}`)
        .join(' ');
      return { rule: rule.id, status: 'skipped', reason: 'not_sendable', detail: detail.slice(0, 1000) };
    }
    const id = eventEmailId({
      ruleId: rule.id,
      event: event.name,
      contactId: contact.id,
      idempotencyKey: event.idempotencyKey,
      keyFields: rule.keyFields,
      data: event.data,
    });
    // The rule's sends run as the key that made it.
    const caller: Caller = {
      keyName: rule.keyName,
      ...(rule.keyHash === undefined ? {} : { keyHash: rule.keyHash }),
      scopes: ['send'],
      senderDomains: rule.senderDomains,
      // Not a request: the event's own request was counted against its key's rate.
      ratePerSecond: 0,
    };
    try {
      const [accepted] = await deps.accept(caller, [email.data], { ids: [id] });
      if (accepted?.existed) return { rule: rule.id, email_id: id, status: 'duplicate' };
      return { rule: rule.id, email_id: id, status: accepted?.scheduledAt ? 'scheduled' : 'queued' };
    } catch (e) {
      // A template its values cannot render, a sender the key lost, a delay without scheduling:
      // this rule is skipped, the others still send. A failure to record or enqueue is the request's.
      if (isDomainError(e) && ['validation_failed', 'forbidden', 'payload_too_large'].includes(e.code)) {
        const reason = e.details?.some((d) => d.path.startsWith('template')) ? 'template' : 'not_sendable';
        return { rule: rule.id, status: 'skipped', reason, detail: problemOf(e) };
      }
      throw e;
    }
  }
}
