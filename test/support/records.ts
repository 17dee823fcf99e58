import { type MessageRecord, type NewMessage, newRecord } from '../../functions/core/message';

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
