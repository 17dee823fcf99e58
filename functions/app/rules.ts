/**
 * The rules API (/v1/rules): create, list, read, change and delete the rules that map an event name
 * to a templated send. Writes need an admin key, reads a read key. A rule's sends run as the key that
 * created it: its `from` must be in one of that key's sender domains, checked when the rule is saved.
 * Rules are read per event without a cache, so a change applies to the next event emitted.
 */
import { randomUUID } from 'node:crypto';
import type * as z from 'zod/mini';
import { SendEmailBody } from '../core/email';
import { DomainError, type FieldIssue } from '../core/errors';
import type { RouteKey } from '../core/routes';
import {
  CreateRuleBody,
  PatchRuleBody,
  patchRule,
  RULE_LIMITS,
  type Rule,
  type RuleDefinition,
  ruleEmail,
} from '../core/rule';
import { API_ERRORS } from '../core/zod-locale';
import type { RuleStore } from '../ports';
import { type Caller, maySendFrom } from './auth';
import type { ApiRequest, RouteMap } from './http';

type RuleRoutes = Extract<RouteKey<'ingest'>, `${string} /v1/rules${string}`>;

export interface RuleApiDeps {
  readonly rules: RuleStore;
  readonly now: () => Date;
  readonly newId?: () => string;
}

const issuesOf = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

function parse<T extends z.ZodMiniType>(schema: T, body: unknown): z.output<T> {
  if (body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
  const parsed = schema.safeParse(body, API_ERRORS);
  if (!parsed.success) throw new DomainError('validation_failed', 'The rule is not valid.', issuesOf(parsed.error));
  return parsed.data;
}

/** A rule's problems as an email of it would have them (its sender, category), and the key's right to its sender. */
function checkSendable(rule: RuleDefinition, caller: Pick<Caller, 'senderDomains'>): void {
  const trial = SendEmailBody.safeParse(
    ruleEmail({ ...rule, id: 'check' }, 'contact@example.com', { variables: {} }),
    API_ERRORS,
  );
  if (!trial.success) {
    const issues = issuesOf(trial.error).filter((i) => i.path === 'from' || i.path.startsWith('from.'));
    throw new DomainError(
      'validation_failed',
      'The rule is not valid.',
      issues.length > 0 ? issues : issuesOf(trial.error),
    );
  }
  if (!maySendFrom(caller as Caller, trial.data.from.address)) {
    throw new DomainError(
      'forbidden',
      `This API key may send from ${caller.senderDomains.join(', ')} only; the rule's sends run as this key.`,
      [{ path: 'from', message: `${trial.data.from.address} is not in a sender domain of this key` }],
    );
  }
}

/** The rule as the API shows it: never the key's hash. */
export const ruleView = (r: Rule) => ({
  id: r.id,
  event: r.event,
  enabled: r.enabled,
  condition: r.condition ?? [],
  template: r.template,
  from: r.from,
  variables: r.variables,
  category: r.category,
  priority: r.priority ?? null,
  delay: r.delay ?? null,
  cooldown: r.cooldown ?? null,
  consentCategory: r.consentCategory ?? null,
  keyFields: r.keyFields,
  apiKey: r.keyName,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

function pageParams(req: ApiRequest): { limit: number; cursor?: string } {
  const q = req.event.queryStringParameters ?? {};
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > RULE_LIMITS.page) {
    throw new DomainError('validation_failed', `limit is a whole number from 1 to ${RULE_LIMITS.page}.`, [
      { path: 'limit', message: 'invalid' },
    ]);
  }
  return { limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
}

export function ruleRoutes(deps: RuleApiDeps): RouteMap<RuleRoutes> {
  const newId = deps.newId ?? randomUUID;

  async function mustGet(req: ApiRequest): Promise<Rule> {
    const id = req.param('id') ?? '';
    const rule = ID_PATTERN.test(id) ? await deps.rules.get(id) : undefined;
    if (!rule) throw new DomainError('not_found', `No rule with id "${id.slice(0, 64)}".`);
    return rule;
  }

  return {
    'GET /v1/rules': {
      auth: 'read',
      handle: async (req) => {
        const { limit, cursor } = pageParams(req);
        const page = await deps.rules.list(limit, cursor);
        return { status: 200, body: { data: page.items.map(ruleView), next: page.next ?? null } };
      },
    },

    'POST /v1/rules': {
      auth: 'admin',
      maxBodyBytes: 64 * 1024,
      handle: async (req) => {
        const caller = req.caller as Caller;
        const definition = parse(CreateRuleBody, req.body);
        checkSendable(definition, caller);
        const existing = await deps.rules.forEvent(definition.event);
        if (existing.length >= RULE_LIMITS.perEvent) {
          throw new DomainError('conflict', `An event name has at most ${RULE_LIMITS.perEvent} rules.`);
        }
        const at = deps.now().toISOString();
        const rule: Rule = {
          ...definition,
          id: newId(),
          keyName: caller.keyName,
          ...(caller.keyHash === undefined ? {} : { keyHash: caller.keyHash }),
          senderDomains: [...caller.senderDomains],
          createdAt: at,
          updatedAt: at,
        };
        if (!(await deps.rules.create(rule))) throw new DomainError('conflict', 'A rule with this id exists.');
        return { status: 201, body: ruleView(rule) };
      },
    },

    'GET /v1/rules/{id}': {
      auth: 'read',
      handle: async (req) => ({ status: 200, body: ruleView(await mustGet(req)) }),
    },

    'PATCH /v1/rules/{id}': {
      auth: 'admin',
      maxBodyBytes: 64 * 1024,
      handle: async (req) => {
        const caller = req.caller as Caller;
        const rule = await mustGet(req);
        const patch = parse(PatchRuleBody, req.body);
        const definition = parse(CreateRuleBody, patchRule(rule, patch));
        // The key that changes a rule is the one its sends run as from now on.
        checkSendable(definition, caller);
        const next: Rule = {
          ...definition,
          id: rule.id,
          keyName: caller.keyName,
          ...(caller.keyHash === undefined ? {} : { keyHash: caller.keyHash }),
          senderDomains: [...caller.senderDomains],
          createdAt: rule.createdAt,
          updatedAt: deps.now().toISOString(),
        };
        if (!(await deps.rules.replace(next))) throw new DomainError('not_found', `No rule with id "${rule.id}".`);
        return { status: 200, body: ruleView(next) };
      },
    },

    'DELETE /v1/rules/{id}': {
      auth: 'admin',
      handle: async (req) => {
        const rule = await mustGet(req);
        await deps.rules.delete(rule.id);
        return { status: 204 };
      },
    },
  };
}
