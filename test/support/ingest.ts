/**
 * The ingest handler's dependencies for unit tests: in-memory stores, one queue for every priority,
 * no keys, an idempotency layer that is never reached (requests without an Idempotency-Key). A test
 * gives what it looks at; a new dependency gets its default here, once.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Authenticator } from '../../functions/app/auth';
import { withSearchIndex } from '../../functions/app/email-search';
import type { IngestDeps } from '../../functions/app/ingest';
import { logger } from '../../functions/app/observability';
import { MemoryBroadcastStore } from './broadcast-fakes';
import { MemoryContactStore } from './contact-fakes';
import { MemoryContactImportStore } from './contact-import-fakes';
import { MemoryContentStore } from './content-store';
import { MemoryEmailIndex } from './email-index-fake';
import {
  MemoryKeys,
  MemoryMessageStore,
  MemoryProviderSettings,
  MemoryQueue,
  MemorySuppression,
  memoryStreams,
} from './fakes';
import { MemoryRuleStore } from './rule-fakes';
import { MemoryTemplateStore } from './template-fakes';

/** An idempotency layer pointing nowhere: tests that send an Idempotency-Key give their own. */
export const unreachableIdempotency = (): DynamoDBPersistenceLayer =>
  new DynamoDBPersistenceLayer({
    tableName: 'unused',
    awsSdkV3Client: new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1 }),
  });

export function ingestTestDeps(given: Partial<IngestDeps> = {}): IngestDeps {
  const queue = new MemoryQueue();
  // Every record created is indexed for search, as the deployed wiring does.
  const messages = given.messages ?? new MemoryMessageStore();
  const search = given.search ?? { index: new MemoryEmailIndex(messages) };
  const templates = given.templates ?? new MemoryTemplateStore();
  return {
    suppression: new MemorySuppression(),
    queues: { critical: queue, transactional: queue, bulk: queue },
    auth: new Authenticator(new MemoryKeys()),
    idempotency: unreachableIdempotency(),
    retentionDays: 30,
    providerSettings: { defs: [{ id: 'ses', type: 'ses' }], chain: ['ses'], store: new MemoryProviderSettings() },
    streams: memoryStreams(),
    templates,
    broadcasts: {
      store: new MemoryBroadcastStore(),
      contacts: new MemoryContactStore(),
      templates,
      jobs: new MemoryQueue(),
      now: () => new Date(),
      logger,
    },
    content: new MemoryContentStore(),
    uploads: { presignPut: async (key) => `https://uploads.example.com/${key}?signed` },
    maxMessageBytes: 40_000_000,
    contacts: { store: new MemoryContactStore(), imports: new MemoryContactImportStore(), jobs: new MemoryQueue() },
    rules: new MemoryRuleStore(),
    ...given,
    messages: withSearchIndex(messages, search.index),
    search,
  };
}
