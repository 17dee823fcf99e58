/**
 * The `mailroute` object of cdk.json's context: what an operator configures before deploying.
 * Parsed once by bin/app.ts; a bad value stops `cdk synth` with a message naming the field.
 */
import { z } from 'zod';

/** The context key under which cdk.json holds the configuration. */
export const CONTEXT_KEY = 'mailroute';

/** A DNS domain such as example.com or mail.example.co.uk (an SES domain identity). */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const EMAIL = z.email();

const isSesIdentity = (value: string): boolean => DOMAIN.test(value) || EMAIL.safeParse(value).success;

const SenderIdentity = z
  .string({ error: 'expected a string' })
  .refine(isSesIdentity, { error: 'expected a domain (example.com) or an email address (noreply@example.com)' });

const DispatchContext = z.strictObject({
  /** Most concurrent dispatch invocations the SQS event source starts (Lambda allows 2..1000). */
  maxConcurrency: z
    .number({ error: 'expected a whole number from 2 to 1000' })
    .int({ error: 'expected a whole number from 2 to 1000' })
    .min(2, { error: 'expected a whole number from 2 to 1000' })
    .max(1000, { error: 'expected a whole number from 2 to 1000' })
    .default(10),
});

export const MailrouteContextSchema = z.strictObject({
  /** SES identities (domains or email addresses) the dispatch function may send from. */
  senderIdentities: z
    .array(SenderIdentity, { error: 'expected a list of SES identities, e.g. ["example.com"]' })
    .min(1, { error: 'expected at least one SES identity (a domain or an email address)' }),
  /** Days a message record is kept before DynamoDB TTL removes it. */
  retentionDays: z
    .number({ error: 'expected a whole number of days from 1 to 3650' })
    .int({ error: 'expected a whole number of days from 1 to 3650' })
    .min(1, { error: 'expected a whole number of days from 1 to 3650' })
    .max(3650, { error: 'expected a whole number of days from 1 to 3650' })
    .default(30),
  dispatch: DispatchContext.prefault({}),
});

export type MailrouteContext = z.infer<typeof MailrouteContextSchema>;

/** Keys each (nested) object accepts, by its path below `mailroute`, for the unknown-key message. */
const ALLOWED_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(MailrouteContextSchema.shape),
  dispatch: Object.keys(DispatchContext.shape),
};

/** `mailroute.senderIdentities[1]`, `mailroute.dispatch.maxConcurrency`. */
const fieldPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    CONTEXT_KEY,
  );

function describe(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = ALLOWED_KEYS[issue.path.map(String).join('.')] ?? [];
    return issue.keys.map(
      (key) =>
        `cdk.json context "${fieldPath([...issue.path, key])}": unknown key (allowed here: ${allowed.join(', ')})`,
    );
  }
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return [`cdk.json context "${CONTEXT_KEY}": expected an object such as { "senderIdentities": ["example.com"] }`];
  }
  return [`cdk.json context "${fieldPath(issue.path)}": ${issue.message}`];
}

/**
 * Validates the `mailroute` context value and fills in defaults.
 * @param raw the value of `app.node.tryGetContext('mailroute')`; a JSON string (as given with `cdk -c`) is accepted too
 * @throws Error naming every invalid field by its path, e.g. `cdk.json context "mailroute.retentionDays": expected …`
 */
export function parseContext(raw: unknown): MailrouteContext {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`cdk.json context "${CONTEXT_KEY}": expected an object, got a string that is not JSON`);
    }
  }
  const result = MailrouteContextSchema.safeParse(value);
  if (!result.success) {
    throw new Error(`Invalid configuration:\n  ${result.error.issues.flatMap(describe).join('\n  ')}`);
  }
  return result.data;
}
