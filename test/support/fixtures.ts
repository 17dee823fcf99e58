import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** An SES notification fixture, with __MESSAGE_ID__ replaced by `messageId`. */
export function sesFixture(name: string, messageId = 'msg-1'): Record<string, unknown> {
  const text = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'ses', name), 'utf8');
  return JSON.parse(text.replaceAll('__MESSAGE_ID__', messageId)) as Record<string, unknown>;
}
