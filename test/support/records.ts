import { type MessageRecord, type NewMessage, newRecord } from '../../functions/core/message';
import type { OutboundEmail } from '../../functions/ports';

/** A message record as ingest writes it (status queued), for tests. */
export function record(id: string, over: Partial<NewMessage> = {}, at = '2026-11-22T10:00:00Z'): MessageRecord {
  return newRecord(
    {
      id,
      from: 'app@example.com',
      to: ['user@example.org'],
      cc: [],
      bcc: [],
      subject: 'Hi',
      tags: {},
      category: 'transactional',
      apiKey: 'k',
      ...over,
    },
    new Date(at),
    30,
  );
}

/** An email as the dispatcher hands it to a provider, for provider tests. */
export function outbound(over: Partial<OutboundEmail> = {}): OutboundEmail {
  return {
    v: 1,
    id: 'msg-1',
    from: '"Acme" <app@example.com>',
    to: ['user@example.org'],
    cc: [],
    bcc: ['audit@example.org'],
    replyTo: ['support@example.com'],
    subject: 'Hi',
    html: '<p>Hello</p>',
    text: 'Hello',
    headers: { 'X-Entity-Ref': 'abc' },
    tags: { campaign: 'spring' },
    category: 'transactional',
    ...over,
  };
}
