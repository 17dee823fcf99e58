/**
 * The OpenAPI 3.1 document of the API, generated from the route list, each route's entry in
 * app/openapi-routes.ts and the zod schemas the handlers validate with (`z.toJSONSchema`): there is
 * no second, hand-written copy of a request schema. Built on the first request for it, then kept.
 */
import * as z from 'zod/mini';
import { ERROR_STATUS, type ErrorCode } from '../core/errors';
import { resendError } from '../core/resend';
import { API_ROUTES, type RouteKey, routeKey } from '../core/routes';
import { ROUTE_DOCS, type RouteDoc, TAGS } from './openapi-routes';
import { responseSchemas } from './openapi-schemas';

type Json = Record<string, unknown>;

/** An operation id from a route key: `GET /v1/emails/{id}` → `getV1EmailsById`. */
export function operationId(key: string): string {
  const [method = '', path = ''] = key.split(' ');
  const words = path
    .split('/')
    .filter(Boolean)
    .map((seg) => (/^\{(\w+)\}$/.test(seg) ? `by-${seg.slice(1, -1)}` : seg))
    .flatMap((seg) => seg.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/**
 * A zod schema as a JSON Schema for the document: nested definitions move to `components.schemas`
 * (named after `name`), and a list that also takes a single value (a pipe that reads one string as a
 * list of one) says so.
 */
function toSchema(schema: z.ZodMiniType, name: string, io: 'input' | 'output', components: Json): Json {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string; in?: { _zod: { def: { type: string } } } };
      const js = ctx.jsonSchema as Json;
      if (def.type === 'pipe' && def.in?._zod.def.type === 'transform' && js.type === 'array' && io === 'input') {
        const list = { ...js };
        for (const k of Object.keys(js)) delete js[k];
        js.anyOf = [list.items, list];
      }
    },
  }) as Json;
  const { $schema: _, $defs, ...rest } = json;
  const rename = (k: string) => `${name}_${k.replace(/[^A-Za-z0-9_]/g, '')}`;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/')
          ? `#/components/schemas/${rename(x.slice('#/$defs/'.length))}`
          : rewrite(x),
      ]),
    );
  };
  for (const [k, d] of Object.entries(($defs ?? {}) as Json)) components[rename(k)] = rewrite(d);
  return rewrite(rest) as Json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The error codes a route may answer: its own, and those of its kind (a key, a body, any route). */
export function errorCodesOf(doc: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(doc.errors);
  // Any valid key: the handler checks it itself (no scope to lack, no rate limit).
  if (doc.auth === 'any') for (const c of ['unauthorized', 'unavailable'] as const) codes.add(c);
  else if (doc.auth)
    for (const c of ['unauthorized', 'forbidden', 'rate_limited', 'unavailable'] as const) codes.add(c);
  if (doc.body) {
    for (const c of ['bad_request', 'payload_too_large', 'unsupported_media_type', 'validation_failed'] as const)
      codes.add(c);
  }
  if (doc.headers?.some((h) => h.name === 'Idempotency-Key')) codes.add('validation_failed');
  // Every route limits its body (none, for a route that takes none: 413 "This route takes no request body"),
  // and any route may fail on our side.
  codes.add('payload_too_large');
  codes.add('internal');
  return [...codes];
}

/** Each status a route's error codes answer with, and what that status means there. */
function errorStatuses(doc: RouteDoc, codes: readonly ErrorCode[]): Map<number, string[]> {
  const by = new Map<number, string[]>();
  const add = (status: number, what: string) => {
    const list = by.get(status) ?? [];
    if (!list.includes(what)) list.push(what);
    by.set(status, list);
  };
  for (const code of codes) {
    if (!doc.resendErrors) {
      add(ERROR_STATUS[code], `\`${code}\``);
      continue;
    }
    // Every (status, name) Resend's shape gives this code: the same mapping the routes answer with.
    for (const message of ['Send your API key as "Authorization: Bearer <key>".', 'in progress', ''])
      for (const path of ['', 'from', 'headers.Idempotency-Key']) {
        const r = resendError(code, message, path ? [{ path, message: '' }] : []);
        add(r.statusCode, `\`${r.name}\``);
      }
  }
  return by;
}

export interface OpenApiOptions {
  /** The API's version, shown in `info`. */
  readonly version?: string;
}

/** The whole document. */
export function buildOpenApi(options: OpenApiOptions = {}): Json {
  const components: Json = {};
  for (const [name, schema] of Object.entries(responseSchemas()))
    components[name] = toSchema(schema, name, 'output', components);

  const paths: Record<string, Json> = {};
  for (const route of API_ROUTES) {
    const key = routeKey(route) as RouteKey;
    const doc: RouteDoc = ROUTE_DOCS[key];
    const id = operationId(key);
    const parameters: Json[] = [];
    for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
      const p = doc.params?.find((x) => x.name === name);
      parameters.push({
        name,
        in: 'path',
        required: true,
        ...(p ? { description: p.description } : {}),
        schema: p?.schema ?? { type: 'string' },
      });
    }
    if (doc.query) {
      const q = toSchema(doc.query(), `${id}Query`, 'input', components) as {
        properties?: Record<string, Json>;
        required?: string[];
      };
      for (const [name, schema] of Object.entries(q.properties ?? {}))
        parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, schema });
    }
    for (const p of doc.queryParams ?? [])
      parameters.push({
        name: p.name,
        in: 'query',
        required: p.required ?? false,
        description: p.description,
        schema: p.schema,
      });
    for (const h of doc.headers ?? [])
      parameters.push({
        name: h.name,
        in: 'header',
        required: h.required ?? false,
        description: h.description,
        schema: h.schema,
      });

    let requestBody: Json | undefined;
    if (doc.body) {
      const schemas = doc.body().map((s, i, all) => {
        const name = `${id.charAt(0).toUpperCase()}${id.slice(1)}Body${all.length > 1 ? i + 1 : ''}`;
        components[name] = toSchema(s, name, 'input', components);
        return ref(name);
      });
      requestBody = {
        required: !doc.bodyOptional,
        content: { 'application/json': { schema: schemas.length === 1 ? schemas[0] : { anyOf: schemas } } },
      };
    }

    const responses: Record<string, Json> = {};
    for (const r of doc.responses) {
      const content =
        typeof r.body === 'object'
          ? Object.fromEntries(r.body.text.map((type) => [type, { schema: { type: 'string' } }]))
          : r.body === 'none'
            ? undefined
            : r.body === 'html'
              ? { 'text/html': { schema: { type: 'string' } } }
              : r.body === 'gif'
                ? { 'image/gif': { schema: { type: 'string', contentMediaType: 'image/gif' } } }
                : { 'application/json': { schema: ref(r.body) } };
      responses[String(r.status)] = {
        description: r.description,
        ...(content
          ? { content }
          : key === 'GET /v1/openapi.json'
            ? { content: { 'application/json': { schema: { type: 'object' } } } }
            : {}),
        ...(r.headers
          ? { headers: Object.fromEntries(r.headers.map((h) => [h, { schema: { type: 'string' } }])) }
          : {}),
      };
    }
    for (const [status, names] of [...errorStatuses(doc, errorCodesOf(doc))].sort(([a], [b]) => a - b)) {
      if (responses[String(status)]) continue;
      responses[String(status)] = {
        description: `Error: ${names.join(', ')}`,
        content: { 'application/json': { schema: ref(doc.resendErrors ? 'ResendError' : 'Error') } },
        ...(status === 429 || status === 503
          ? {
              headers: {
                'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
              },
            }
          : {}),
      };
    }

    const scope =
      doc.auth === 'any'
        ? 'Needs an API key, of any scope.'
        : doc.auth
          ? `Needs an API key with the \`${doc.auth}\` scope.`
          : 'Public: no key.';
    const item = paths[route.path] ?? {};
    item[route.method.toLowerCase()] = {
      operationId: id,
      tags: [doc.tag],
      summary: doc.summary,
      description: [doc.description, scope].filter(Boolean).join('\n\n'),
      security: doc.auth ? [{ apiKey: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
    paths[route.path] = item;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'mailroute',
      version: options.version ?? '1',
      summary: 'Transactional email in your own AWS account',
      description:
        'One HTTPS API: mailroute queues each email, sends it through a chain of providers with fail-over and exact rate limits, never mails a suppressed address, and keeps a status and timeline per email. Errors are JSON: `{"error":{"code","message","details"}}` (the /resend routes answer in Resend\'s shape).',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This deployment' }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: `Authorization: Bearer mr_…` (`npm run key:create`).',
        },
      },
      schemas: components,
    },
  };
}

let cached: Json | undefined;
/** The document, built once per process (on the first request for it). */
export const openApiDocument = (): Json => {
  cached ??= buildOpenApi();
  return cached;
};
