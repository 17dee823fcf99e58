/**
 * The template API: create, list, read, edit the draft, publish an immutable version, activate a
 * version (rollback is activating an older one), canaries (promote, roll back), versions with their
 * counters, and preview. Saving or publishing a template that does not parse or reads an undeclared
 * variable is a 422 naming it. Writes need an admin key; reads and previews a read key.
 */
import type * as z from 'zod/mini';
import { DomainError, type FieldIssue } from '../core/errors';
import type { RouteKey } from '../core/routes';
import {
  ActivateBody,
  CreateTemplateBody,
  contentIssues,
  RenderBody,
  SLUG_PATTERN,
  TEMPLATE_LIMITS,
  type TemplateContent,
  type TemplateCounts,
  UpdateTemplateBody,
  type VariableDecl,
} from '../core/template';
import { NO_COUNTS } from '../core/template-canary';
import { API_ERRORS } from '../core/zod-locale';
import type { TemplateHead, TemplateStore } from '../ports';
import type { ApiRequest, RouteMap } from './http';
import { loadEngine, preview, type TemplateRenderDeps } from './template-render';

type TemplateRoutes = Extract<RouteKey<'ingest'>, `${string} /v1/templates${string}`>;

const issuesOf = (error: z.core.$ZodError): FieldIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));

function parse<T extends z.ZodMiniType>(schema: T, body: unknown, what: string): z.output<T> {
  if (body === undefined) throw new DomainError('bad_request', 'The request needs a JSON body.');
  const parsed = schema.safeParse(body, API_ERRORS);
  if (!parsed.success) throw new DomainError('validation_failed', `The ${what} is not valid.`, issuesOf(parsed.error));
  return parsed.data;
}

function slugParam(req: ApiRequest): string {
  const slug = req.param('slug') ?? '';
  if (!SLUG_PATTERN.test(slug)) throw new DomainError('not_found', `No template "${slug.slice(0, 64)}".`);
  return slug;
}

function pageParams(req: ApiRequest): { limit: number; cursor?: string } {
  const q = req.event.queryStringParameters ?? {};
  const limit = q.limit === undefined ? 50 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > TEMPLATE_LIMITS.page) {
    throw new DomainError('validation_failed', `limit is a whole number from 1 to ${TEMPLATE_LIMITS.page}.`, [
      { path: 'limit', message: 'invalid' },
    ]);
  }
  return { limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
}

const summary = (h: TemplateHead) => ({
  slug: h.slug,
  kind: h.kind,
  name: h.draft.name,
  latestVersion: h.latestVersion,
  activeVersion: h.activeVersion === 0 ? null : h.activeVersion,
  canary: h.canary ?? null,
  createdAt: h.createdAt,
  updatedAt: h.updatedAt,
});

const draftView = (d: TemplateContent) => ({
  name: d.name,
  subject: d.subject ?? null,
  html: d.html ?? null,
  text: d.text ?? null,
  variables: d.variables,
  layout: d.layout ?? null,
  cooldown: d.cooldown ?? null,
});

const countsOf = (stats: Map<number, TemplateCounts>, version: number): TemplateCounts =>
  stats.get(version) ?? NO_COUNTS;

export function templateRoutes(deps: TemplateRenderDeps, now: () => Date): RouteMap<TemplateRoutes> {
  const store: TemplateStore = deps.store;

  async function mustHead(slug: string): Promise<TemplateHead> {
    const head = await store.head(slug);
    if (!head) throw new DomainError('not_found', `No template "${slug}".`);
    return head;
  }

  /** The layout's declared variables (its active version's, or its draft's before it has one). */
  async function layoutVariables(layout: string | undefined): Promise<VariableDecl[] | FieldIssue> {
    if (layout === undefined) return [];
    const head = await store.head(layout);
    if (head?.kind !== 'layout') return { path: 'layout', message: `no layout "${layout}"` };
    if (head.activeVersion === 0) return [...head.draft.variables];
    const active = await store.version(layout, head.activeVersion);
    return [...(active?.content.variables ?? head.draft.variables)];
  }

  /** Every problem with a template's content, or none: shape, parse, undeclared variables, layout. */
  async function check(content: TemplateContent): Promise<void> {
    const issues = contentIssues(content);
    const layout = await layoutVariables(content.layout);
    if (!Array.isArray(layout)) issues.push(layout);
    const { lib } = await loadEngine();
    const compiled = lib.compile(content, Array.isArray(layout) ? layout : []);
    if (!compiled.ok) issues.push(...compiled.issues);
    if (issues.length > 0) throw new DomainError('validation_failed', 'The template is not valid.', issues);
  }

  async function view(head: TemplateHead) {
    const stats = await store.stats(head.slug);
    return {
      ...summary(head),
      draft: draftView(head.draft),
      // Counters of the versions sends use now (the active one and a canary's).
      counts: Object.fromEntries(
        [head.activeVersion, head.canary?.version ?? 0]
          .filter((v) => v > 0)
          .map((v) => [String(v), countsOf(stats, v)]),
      ),
    };
  }

  /** Ends a canary: `promote` makes its version the active one, `rollback` keeps the active one. */
  async function endCanary(req: ApiRequest, how: 'promote' | 'rollback') {
    const slug = slugParam(req);
    const head = await mustHead(slug);
    if (!head.canary) throw new DomainError('conflict', `Template "${slug}" has no canary running.`);
    const at = now().toISOString();
    const activeVersion = how === 'promote' ? head.canary.version : head.activeVersion;
    const expected = { activeVersion: head.activeVersion, canaryVersion: head.canary.version };
    if (!(await store.activate(slug, { activeVersion }, expected, at))) {
      throw new DomainError('conflict', 'The canary was ended by another request meanwhile.');
    }
    return { status: 200, body: await view({ ...head, activeVersion, canary: undefined, updatedAt: at }) };
  }

  return {
    'GET /v1/templates': {
      auth: 'read',
      handle: async (req) => {
        const { limit, cursor } = pageParams(req);
        const page = await store.list(limit, cursor);
        return { status: 200, body: { data: page.items.map(summary), next: page.next ?? null } };
      },
    },

    'POST /v1/templates': {
      auth: 'admin',
      maxBodyBytes: 3 * TEMPLATE_LIMITS.partBytes + 64 * 1024,
      handle: async (req) => {
        const body = parse(CreateTemplateBody, req.body, 'template');
        const draft: TemplateContent = {
          name: body.name,
          kind: body.kind,
          subject: body.subject,
          html: body.html,
          text: body.text,
          variables: body.variables ?? [],
          layout: body.layout ?? undefined,
          cooldown: body.cooldown ?? undefined,
        };
        await check(draft);
        const at = now().toISOString();
        const head: TemplateHead = {
          slug: body.slug,
          kind: body.kind,
          draft,
          revision: 0,
          latestVersion: 0,
          activeVersion: 0,
          createdAt: at,
          updatedAt: at,
        };
        if (!(await store.create(head))) throw new DomainError('conflict', `A template "${body.slug}" exists already.`);
        return { status: 201, body: await view(head) };
      },
    },

    'GET /v1/templates/{slug}': {
      auth: 'read',
      handle: async (req) => ({ status: 200, body: await view(await mustHead(slugParam(req))) }),
    },

    'PUT /v1/templates/{slug}': {
      auth: 'admin',
      maxBodyBytes: 3 * TEMPLATE_LIMITS.partBytes + 64 * 1024,
      handle: async (req) => {
        const slug = slugParam(req);
        const body = parse(UpdateTemplateBody, req.body, 'template');
        const head = await mustHead(slug);
        const pick = <K extends 'subject' | 'html' | 'text' | 'layout' | 'cooldown'>(k: K) =>
          body[k] === undefined ? head.draft[k] : (body[k] ?? undefined);
        const draft: TemplateContent = {
          name: body.name ?? head.draft.name,
          kind: head.kind,
          subject: pick('subject'),
          html: pick('html'),
          text: pick('text'),
          variables: body.variables ?? head.draft.variables,
          layout: pick('layout'),
          cooldown: pick('cooldown'),
        };
        await check(draft);
        const at = now().toISOString();
        if (!(await store.saveDraft(slug, draft, head.revision, at))) {
          throw new DomainError(
            'conflict',
            'The draft was changed by another request meanwhile; read it and try again.',
          );
        }
        return { status: 200, body: await view({ ...head, draft, revision: head.revision + 1, updatedAt: at }) };
      },
    },

    'POST /v1/templates/{slug}/publish': {
      auth: 'admin',
      handle: async (req) => {
        const slug = slugParam(req);
        const head = await mustHead(slug);
        await check(head.draft);
        const at = now().toISOString();
        if (!(await store.publish(slug, head.latestVersion, head.draft, at))) {
          throw new DomainError('conflict', 'Another version was published meanwhile; try again.');
        }
        const version = head.latestVersion + 1;
        // The first version of a template becomes its active one; later ones wait for `activate`.
        const activated =
          head.activeVersion === 0 &&
          (await store.activate(slug, { activeVersion: version }, { activeVersion: 0, canaryVersion: 0 }, at));
        return {
          status: 201,
          body: { slug, version, publishedAt: at, active: activated || head.activeVersion === version },
        };
      },
    },

    'POST /v1/templates/{slug}/activate': {
      auth: 'admin',
      maxBodyBytes: 4096,
      handle: async (req) => {
        const slug = slugParam(req);
        const body = parse(ActivateBody, req.body, 'activation');
        const head = await mustHead(slug);
        if (body.version > head.latestVersion || !(await store.version(slug, body.version))) {
          throw new DomainError('validation_failed', `Template "${slug}" has no version ${body.version}.`, [
            { path: 'version', message: `no version ${body.version}` },
          ]);
        }
        const at = now().toISOString();
        const expected = { activeVersion: head.activeVersion, canaryVersion: head.canary?.version ?? 0 };
        let next: Parameters<TemplateStore['activate']>[1];
        if (body.canary) {
          if (head.activeVersion === 0 || head.activeVersion === body.version) {
            throw new DomainError('validation_failed', 'A canary needs another version active to compare with.', [
              {
                path: 'canary',
                message: `version ${body.version} is ${head.activeVersion === 0 ? 'the first to be active' : 'already active'}`,
              },
            ]);
          }
          next = {
            activeVersion: head.activeVersion,
            canary: { version: body.version, ...body.canary, startedAt: at },
          };
        } else {
          // Activating ends a canary that was running.
          next = { activeVersion: body.version };
        }
        if (!(await store.activate(slug, next, expected, at))) {
          throw new DomainError('conflict', 'The active version was changed by another request meanwhile; try again.');
        }
        return {
          status: 200,
          body: await view({ ...head, activeVersion: next.activeVersion, canary: next.canary, updatedAt: at }),
        };
      },
    },

    'POST /v1/templates/{slug}/canary/promote': { auth: 'admin', handle: (req) => endCanary(req, 'promote') },
    'POST /v1/templates/{slug}/canary/rollback': { auth: 'admin', handle: (req) => endCanary(req, 'rollback') },

    'GET /v1/templates/{slug}/versions': {
      auth: 'read',
      handle: async (req) => {
        const slug = slugParam(req);
        const { limit, cursor } = pageParams(req);
        const head = await mustHead(slug);
        const [page, stats] = await Promise.all([store.versions(slug, limit, cursor), store.stats(slug)]);
        return {
          status: 200,
          body: {
            data: page.items.map((v) => ({
              version: v.version,
              publishedAt: v.publishedAt,
              active: v.version === head.activeVersion,
              canary: v.version === head.canary?.version,
              counts: countsOf(stats, v.version),
            })),
            next: page.next ?? null,
          },
        };
      },
    },

    'POST /v1/templates/{slug}/render': {
      auth: 'read',
      maxBodyBytes: 1_048_576,
      handle: async (req) => {
        const slug = slugParam(req);
        const body = parse(RenderBody, req.body ?? {}, 'preview request');
        const head = await mustHead(slug);
        let content = head.draft;
        if (body.version !== undefined) {
          const stored = await store.version(slug, body.version);
          if (!stored) {
            throw new DomainError('validation_failed', `Template "${slug}" has no version ${body.version}.`, [
              { path: 'version', message: `no version ${body.version}` },
            ]);
          }
          content = stored.content;
        }
        const result = await preview(deps, content, body.version ?? 'draft', body.variables, body.slots);
        return { status: 200, body: result };
      },
    },
  };
}
