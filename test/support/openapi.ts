/**
 * Reading the OpenAPI document in tests: an operation by method and request path, and a zod
 * validator built from one of its JSON Schemas (zod's `fromJSONSchema`), so a request or answer is
 * checked against the document itself, not against the schemas it was generated from.
 */
import * as z from 'zod';

export type Json = Record<string, unknown>;
export interface Operation {
  readonly path: string;
  readonly method: string;
  readonly op: {
    operationId: string;
    summary: string;
    security: unknown[];
    parameters?: { name: string; in: string; required: boolean; schema: Json }[];
    requestBody?: { required: boolean; content: { 'application/json': { schema: Json } } };
    responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
  };
}

/** The operation that serves `method path` (path without the query), if the document has one. */
export function findOperation(doc: Json, method: string, path: string): Operation | undefined {
  const paths = doc.paths as Record<string, Record<string, Operation['op']>>;
  const matches = Object.keys(paths).filter((template) => {
    const t = template.split('/');
    const p = path.split('/');
    return t.length === p.length && t.every((seg, i) => (/^\{\w+\}$/.test(seg) ? (p[i] ?? '') !== '' : seg === p[i]));
  });
  // A literal segment wins over a parameter (/v1/emails/batch over /v1/emails/{id}).
  const template = matches.sort((a, b) => (a.match(/\{/g) ?? []).length - (b.match(/\{/g) ?? []).length)[0];
  const op = template ? paths[template]?.[method.toLowerCase()] : undefined;
  return template && op ? { path: template, method, op } : undefined;
}

/** A validator for a schema of the document (its `$ref`s resolved against the document's components). */
export function validator(doc: Json, schema: Json): z.ZodType {
  const components = (doc.components as { schemas: Json }).schemas;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '#/$defs/') : rewrite(x),
      ]),
    );
  };
  return z.fromJSONSchema({ ...(rewrite(schema) as Json), $defs: rewrite(components) as Json } as never);
}
