/**
 * Templates as data: the API's schemas (a template's draft, a send's `template` field), the declared
 * variables and their checks at send time, and the limits. Pure and free of the engine: the
 * rendering itself is core/template-engine.ts, loaded only where a template is rendered.
 */
import * as z from 'zod/mini';
import { Cooldown } from './cooldown';
import type { FieldIssue } from './errors';
import './zod-locale';

/** The default margin: a canary's rate may be this much (two percentage points) above the active version's. */
export const DEFAULT_CANARY_MARGIN = 0.02;

export const TEMPLATE_LIMITS = {
  /** Bytes per part (subject, html, text) of a template's source. */
  partBytes: 256 * 1024,
  /** Bytes per rendered part: a loop cannot grow an email past this. */
  renderedBytes: 512 * 1024,
  /** Milliseconds one part may take to render (the engine stops it past this). */
  renderMs: 100,
  /** Objects (array items, string pieces) one render may create. */
  memory: 10_000_000,
  variables: 100,
  slotBytes: 64 * 1024,
  slots: 20,
  /** Items per page of GET /v1/templates and GET …/versions. */
  page: 100,
} as const;

export const TEMPLATE_KINDS = ['template', 'layout'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export const VARIABLE_TYPES = ['string', 'number', 'boolean', 'object', 'array'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** Slugs: lower-case letters, digits and "-", as they appear in URLs. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Variable and slot names: Liquid identifiers. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const slug = z
  .string()
  .check(z.regex(SLUG_PATTERN, 'slugs are 1 to 64 lower-case letters, digits or "-", starting with a letter or digit'));

const part = (what: string) =>
  z.string().check(
    z.minLength(1, `${what} must not be empty`),
    z.refine(
      (s) => Buffer.byteLength(s, 'utf8') <= TEMPLATE_LIMITS.partBytes,
      `${what} is larger than ${TEMPLATE_LIMITS.partBytes / 1024} KB`,
    ),
  );

export const typeOf = (value: unknown): VariableType | 'null' =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'array'
      : typeof value === 'number'
        ? 'number'
        : typeof value === 'boolean'
          ? 'boolean'
          : typeof value === 'string'
            ? 'string'
            : 'object';

export const VariableDecl = z
  .strictObject({
    name: z
      .string()
      .check(z.regex(NAME_PATTERN, 'variable names are letters, digits and "_", not starting with a digit')),
    type: z.enum(VARIABLE_TYPES, { error: `type is one of ${VARIABLE_TYPES.map((t) => `"${t}"`).join(', ')}` }),
    /** A variable with a default is optional. @default true, or false when a default is given */
    required: z.optional(z.boolean()),
    default: z.optional(z.json()),
    description: z.optional(z.string().check(z.maxLength(500))),
  })
  .check(
    z.superRefine((d, ctx) => {
      if (d.default !== undefined && typeOf(d.default) !== d.type) {
        ctx.addIssue({ code: 'custom', path: ['default'], message: `the default of "${d.name}" must be a ${d.type}` });
      }
      if (d.default !== undefined && d.required === true) {
        ctx.addIssue({ code: 'custom', path: ['required'], message: `"${d.name}" has a default, so it is optional` });
      }
    }),
  );
export type VariableDecl = z.infer<typeof VariableDecl>;

export const isRequired = (d: VariableDecl): boolean => d.default === undefined && d.required !== false;

const variables = z.array(VariableDecl).check(
  z.maxLength(TEMPLATE_LIMITS.variables, `at most ${TEMPLATE_LIMITS.variables} variables`),
  z.superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((d, i) => {
      if (seen.has(d.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${d.name}" is declared twice` });
      seen.add(d.name);
    });
  }),
);

/** What a template's draft and each of its versions hold. */
export interface TemplateContent {
  readonly name: string;
  readonly kind: TemplateKind;
  readonly subject?: string | undefined;
  readonly html?: string | undefined;
  readonly text?: string | undefined;
  readonly variables: readonly VariableDecl[];
  /** The slug of the layout that wraps this template's html and text. */
  readonly layout?: string | undefined;
  /** The cooldown of the emails sent with it, unless a send gives its own (or `null`). */
  readonly cooldown?: Cooldown | undefined;
}

const contentFields = {
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  subject: z.optional(part('subject')),
  html: z.optional(part('html')),
  text: z.optional(part('text')),
  variables: z.optional(variables),
  layout: z.optional(z.nullable(slug)),
  cooldown: z.optional(z.nullable(Cooldown)),
};

/** Issues of a template's content as a whole (after a create, or a draft merged with an edit). */
export function contentIssues(c: TemplateContent): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (c.html === undefined && c.text === undefined) issues.push({ path: 'html', message: 'give html, text or both' });
  if (c.kind === 'template' && c.subject === undefined) {
    issues.push({ path: 'subject', message: 'subject is required: a template for the subject line' });
  }
  if (c.kind === 'layout' && c.subject !== undefined) {
    issues.push({ path: 'subject', message: 'a layout has no subject: the template it wraps gives it' });
  }
  if (c.kind === 'layout' && c.layout !== undefined) {
    issues.push({ path: 'layout', message: 'a layout cannot itself have a layout' });
  }
  if (c.kind === 'layout' && c.cooldown !== undefined) {
    issues.push({ path: 'cooldown', message: 'a layout has no cooldown: the template it wraps gives it' });
  }
  return issues;
}

export const CreateTemplateBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    slug,
    kind: z._default(
      z.enum(TEMPLATE_KINDS, { error: `kind is one of ${TEMPLATE_KINDS.map((k) => `"${k}"`).join(', ')}` }),
      'template',
    ),
    ...contentFields,
  }),
);

/** PUT edits the draft: the fields given replace the draft's (`layout: null` removes the layout). */
export const UpdateTemplateBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    name: z.optional(contentFields.name),
    subject: z.optional(z.nullable(part('subject'))),
    html: z.optional(z.nullable(part('html'))),
    text: z.optional(z.nullable(part('text'))),
    variables: contentFields.variables,
    layout: contentFields.layout,
    cooldown: contentFields.cooldown,
  }),
);

export const ActivateBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    version: z.int().check(z.minimum(1)),
    canary: z.optional(
      z.strictObject({
        /** The share of sends (1-99) that get the new version. */
        percent: z.number().check(z.minimum(1), z.maximum(99)),
        /** Sends of the new version before the automatic rollback judges it. */
        minSends: z._default(z.int().check(z.minimum(1), z.maximum(1_000_000)), 100),
        /** How much higher (0-1) its rejection or bounce rate may be than the active version's before it is rolled back. */
        margin: z._default(z.number().check(z.minimum(0), z.maximum(1)), DEFAULT_CANARY_MARGIN),
      }),
    ),
  }),
);

export const RenderBody = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    version: z.optional(z.int().check(z.minimum(1))),
    variables: z._default(z.record(z.string(), z.json()), {}),
    slots: z.optional(z.record(z.string(), z.string())),
  }),
);

/** A send's `template` field (POST /v1/emails and batch items), instead of subject/html/text. */
export const SendTemplate = z.strictObject({
  slug,
  /** A published version; the active one (or the canary's pick) when left out. */
  version: z.optional(z.int().check(z.minimum(1))),
  variables: z._default(z.record(z.string(), z.json()), {}),
  slots: z.optional(
    z.record(
      z.string().check(z.regex(NAME_PATTERN, 'slot names are letters, digits and "_"')),
      z
        .string()
        .check(
          z.refine(
            (s) => Buffer.byteLength(s, 'utf8') <= TEMPLATE_LIMITS.slotBytes,
            `slots are at most ${TEMPLATE_LIMITS.slotBytes / 1024} KB`,
          ),
        ),
    ),
  ),
});
export type SendTemplate = z.output<typeof SendTemplate>;

/**
 * The variables a render gets: the send's, checked against the declarations (a missing required
 * variable, a value of the wrong type or an undeclared name is an issue naming it), with defaults.
 */
export function bindVariables(
  decls: readonly VariableDecl[],
  given: Readonly<Record<string, unknown>>,
  path: string,
): { ok: true; values: Record<string, unknown> } | { ok: false; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const values: Record<string, unknown> = {};
  const declared = new Map(decls.map((d) => [d.name, d]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      issues.push({ path: `${path}.${name}`, message: `"${name}" is not a variable of this template` });
    }
  }
  for (const d of decls) {
    const has = Object.hasOwn(given, d.name);
    const value = has ? given[d.name] : d.default;
    if (value === undefined) {
      if (isRequired(d)) {
        issues.push({ path: `${path}.${d.name}`, message: `"${d.name}" is required (a ${d.type})` });
      }
      continue;
    }
    if (typeOf(value) !== d.type) {
      issues.push({ path: `${path}.${d.name}`, message: `"${d.name}" must be a ${d.type}, not ${typeOf(value)}` });
      continue;
    }
    values[d.name] = value;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, values };
}

/** Which template version a send used; kept on the message record and shown in its status. */
export interface TemplateRef {
  readonly slug: string;
  readonly version: number;
}

/** What is counted per template version. */
export const TEMPLATE_COUNTERS = ['sends', 'renderFailures', 'rejections', 'bounces', 'complaints'] as const;
export type TemplateCounter = (typeof TEMPLATE_COUNTERS)[number];
export type TemplateCounts = Readonly<Record<TemplateCounter, number>>;
