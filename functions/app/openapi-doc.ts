/**
 * What the OpenAPI document says about a route, as types: its tag, parameters, answers and errors.
 * Apart from the route docs themselves (openapi-routes.ts and one module per capability), so that
 * those modules import these without importing each other.
 */
import type * as z from 'zod/mini';
import type { ErrorCode } from '../core/errors';
import type { Scope } from '../ports';
import type { ResponseSchemaName } from './openapi-schemas';

export const TAGS = {
  emails:
    'Send email now or at a time, reschedule or cancel it, upload large attachments, read its status and timeline, search sent mail.',
  broadcasts: 'A template to every consenting contact of a list: drafts, schedules, pause and resume, counts.',
  templates: 'Stored Liquid templates: drafts, immutable versions, activation and canaries.',
  events:
    'Event-triggered sends: emit what happened to a contact; rules map event names to templated emails, each sent once per event.',
  suppressions: 'Addresses mail is never sent to, per scope (all mail or one category).',
  contacts: 'Contacts with per-category consent, lists, CSV imports, and the GDPR erase and export.',
  settings: 'The live provider chain and the priority streams (admin keys).',
  webhooks:
    'Endpoints that receive signed events (Standard Webhooks), their secrets, deliveries and replays (admin keys).',
  operations: "The operator console, the caller's own key, and the queues: depths, dead letters, redrive.",
  resend: "Resend's API, for applications using a Resend SDK: set the SDK's base URL to `<API>/resend`.",
  public: 'Unauthenticated: health, this reference, and the links written into emails.',
} as const;
export type Tag = keyof typeof TAGS;

/** A parameter the handler reads by hand (not through a schema). */
export interface ParamDoc {
  readonly name: string;
  readonly description: string;
  readonly schema: Readonly<Record<string, unknown>>;
  readonly required?: boolean;
}

export interface ResponseDoc {
  readonly status: number;
  readonly description: string;
  /** A JSON answer's schema; `html`, `gif` or `none` for the other kinds. */
  readonly body: ResponseSchemaName | 'html' | 'gif' | 'none' | { readonly text: readonly string[] };
  /** Response headers worth naming (Location of a redirect). */
  readonly headers?: readonly string[];
}

export interface RouteDoc {
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  /**
   * The scope a key needs; `any` for any valid key (checked by the handler itself: no scope, no rate
   * limit); false for a public route. Must match the handler's (a test checks).
   */
  readonly auth: Scope | 'any' | false;
  /** Path parameters with more to say than "a string" (their values, what they name). */
  readonly params?: readonly ParamDoc[];
  /** The query string's schema, as the handler validates it (every parameter a string). */
  readonly query?: () => z.ZodMiniType;
  /** Query parameters the handler reads by hand. */
  readonly queryParams?: readonly ParamDoc[];
  readonly headers?: readonly ParamDoc[];
  /** The request body's schema(s), as the handler validates it; several: any one of them. */
  readonly body?: () => readonly z.ZodMiniType[];
  /** The body may be left out. @default false */
  readonly bodyOptional?: boolean;
  readonly responses: readonly ResponseDoc[];
  /** Error codes the route answers beyond those of its kind (a key, a body: see app/openapi.ts). */
  readonly errors: readonly ErrorCode[];
  /** Errors in Resend's shape instead of the API's envelope. */
  readonly resendErrors?: boolean;
}
