/**
 * Schemas use zod/mini: tree-shakable, so each Lambda bundles only the validators it uses
 * (≈16 KB instead of ≈90 KB) and starts faster. English error messages are configured once here,
 * and the API's request bodies are parsed with `API_ERRORS`, which says what is wrong in the API's
 * own terms: the field as a request names it (`to`, `headers.X-Ref`) and what it takes ("`subject`
 * is required", "`html` must be a string"), never zod's "expected array, received undefined". A
 * schema's own message (a check's, or an `error` param) always wins; zod's English locale is the
 * fallback for what is not phrased here.
 */
import { config, type core } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/** A field path as the API names it: `to`, `emails.3.subject`, `headers.X-Entity-Ref-ID`. */
export const fieldPath = (path: readonly PropertyKey[] | undefined): string => (path ?? []).map(String).join('.');

/** "`to` " for a field, "the body " for the request itself. */
export const fieldName = (path: readonly PropertyKey[] | undefined): string => {
  const p = fieldPath(path);
  return p === '' ? 'the body' : `\`${p}\``;
};

const TYPES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

const plural = (n: number | bigint, one: string, many: string) => `${n} ${n === 1 || n === 1n ? one : many}`;

/** The message of an issue no schema phrased itself, in the API's terms (undefined: zod's own). */
export function apiMessage(issue: core.$ZodRawIssue): string | undefined {
  const field = fieldName(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return `${field} is required`;
      const expected = TYPES[issue.expected];
      if (fieldPath(issue.path) === '' && issue.expected === 'object') return 'the body must be a JSON object';
      return expected ? `${field} must be ${expected}` : undefined;
    }
    case 'too_small':
      if (issue.origin === 'string') {
        return Number(issue.minimum) <= 1
          ? `${field} must not be empty`
          : `${field} must be at least ${plural(issue.minimum, 'character', 'characters')}`;
      }
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `${field} must list at least ${plural(issue.minimum, 'item', 'items')}`;
      }
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `${field} must be ${issue.inclusive === false ? 'more than' : 'at least'} ${issue.minimum}`;
      }
      return undefined;
    case 'too_big':
      if (issue.origin === 'string')
        return `${field} must be at most ${plural(issue.maximum, 'character', 'characters')}`;
      if (issue.origin === 'array' || issue.origin === 'set') {
        return `${field} must list at most ${plural(issue.maximum, 'item', 'items')}`;
      }
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `${field} must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}`;
      }
      return undefined;
    case 'unrecognized_keys': {
      const where = fieldPath(issue.path);
      const names = issue.keys.map((k) => `\`${where === '' ? k : `${where}.${k}`}\``).join(', ');
      return `${issue.keys.length === 1 ? 'unknown field' : 'unknown fields'} ${names}: ${
        issue.keys.length === 1 ? 'it is' : 'they are'
      } not part of this request (check the spelling)`;
    }
    case 'invalid_value':
      return `${field} must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? `${field} must be a URL` : `${field} is not in the expected format`;
    default:
      return undefined;
  }
}

/**
 * The parse context of the API's request bodies: `Schema.safeParse(body, API_ERRORS)`. Only there:
 * the deploy-time and environment schemas keep zod's messages, which their callers rephrase.
 */
export const API_ERRORS: { readonly error: (issue: core.$ZodRawIssue) => string | undefined } = { error: apiMessage };

config(en());
